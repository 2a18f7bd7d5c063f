import { Field, ID, InputType } from 'type-graphql';

export const FROM_FIRST_EVENT =
  "Start at the team's earliest data of the export's model in ClickHouse (events: first insertion; persons: first " +
  "distinct-id change), aligned down to the export's interval. startAt must then be omitted. BAD_USER_INPUT when the team has no such data.";

@InputType({ description: 'A backfill: one run per interval of [startAt, endAt) of an export.' })
export class CreateBackfillInput {
  @Field(() => ID, { description: 'The export to backfill.' })
  batchExportId!: string;

  @Field(() => Date, { nullable: true, description: 'Start of the range (widened to a whole interval). Required unless fromFirstEvent is true.' })
  startAt?: Date | null;

  @Field(() => Date, { description: 'End of the range (widened to a whole interval, capped by the export\'s endAt); not in the future.' })
  endAt!: Date;

  @Field(() => Boolean, { nullable: true, description: FROM_FIRST_EVENT })
  fromFirstEvent?: boolean | null;
}
