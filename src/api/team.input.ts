import { Field, InputType, Int } from 'type-graphql';
import { TokenScopeEnum } from './enums';

@InputType({ description: "Changes to the calling token's team: omitted fields keep their values." })
export class UpdateTeamInput {
  @Field(() => String, { nullable: true, description: 'Receives failure and auto-pause notifications (Slack-compatible JSON); null or "" removes it.' })
  webhookUrl?: string | null;

  @Field(() => Int, { nullable: true, description: 'Backfills that may be Starting or Running at once (1-100).' })
  maxConcurrentBackfills?: number | null;
}

@InputType({ description: 'A new API token of the team.' })
export class CreateApiTokenInput {
  @Field({ description: 'A name to tell tokens apart (1-200 characters).' })
  name!: string;

  @Field(() => [TokenScopeEnum], { description: 'What the token may do; WRITE implies READ.' })
  scopes!: TokenScopeEnum[];
}
