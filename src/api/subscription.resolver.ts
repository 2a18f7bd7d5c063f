import { injectable } from 'tsyringe';
import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { BackfillEntity, RunEntity } from '../store/entities';
import { Backfill } from './backfill.type';
import type { ApiContext } from './context';
import { Run } from './run.type';
import { SubscriptionService } from './subscription.service';

const service = (ctx: ApiContext) => ctx.container.resolve(SubscriptionService);

@injectable()
@Resolver()
export class SubscriptionResolver {
  @Subscription(() => Run, {
    description: "Every change of a run of this export (omit batchExportId: of all the team's exports), as the run's current state.",
    subscribe: ({ args, context }) => service(context as ApiContext).runUpdates((context as ApiContext).teamId, args.batchExportId),
  })
  runUpdated(@Root() run: RunEntity, @Arg('batchExportId', () => ID, { nullable: true, description: "The export whose runs to follow; omitted: all the team's exports." }) _batchExportId?: string): RunEntity {
    return run;
  }

  @Subscription(() => Backfill, {
    description: 'The backfill each time it or one of its runs changes; select progress for live counts.',
    subscribe: ({ args, context }) => service(context as ApiContext).backfillUpdates((context as ApiContext).teamId, args.backfillId),
  })
  backfillProgress(@Root() backfill: BackfillEntity, @Arg('backfillId', () => ID, { description: 'The backfill to follow.' }) _backfillId: string): BackfillEntity {
    return backfill;
  }
}
