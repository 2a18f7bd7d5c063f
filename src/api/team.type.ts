import { Field, ID, Int, ObjectType } from 'type-graphql';
import { TokenScopeEnum } from './enums';

@ObjectType()
export class Team {
  @Field(() => ID)
  id!: number;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true, description: 'Receives failure and auto-pause notifications (Slack-compatible JSON).' })
  webhookUrl!: string | null;

  @Field(() => Int, { description: 'Backfills that may be Starting or Running at once.' })
  maxConcurrentBackfills!: number;
}

/** Only the hash of a token is stored; `displayPrefix` tells tokens apart. */
@ObjectType()
export class ApiToken {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  displayPrefix!: string;

  @Field(() => [TokenScopeEnum])
  scopes!: TokenScopeEnum[];

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Refreshed at most once a minute.' })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType()
export class CreatedApiToken {
  @Field({ description: 'The token itself. Shown only in this response; store it now.' })
  token!: string;

  @Field(() => ApiToken)
  apiToken!: ApiToken;
}
