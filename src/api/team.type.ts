import { Field, ID, Int, ObjectType } from 'type-graphql';
import { TokenScopeEnum } from './enums';
import { ConnectionType } from './pagination';

@ObjectType({ description: 'A tenant: every export, destination, run and token belongs to one team.' })
export class Team {
  @Field(() => ID, { description: 'The team id.' })
  id!: number;

  @Field({ description: 'The team name.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Receives failure and auto-pause notifications (Slack-compatible JSON).' })
  webhookUrl!: string | null;

  @Field(() => Int, { description: 'Backfills that may be Starting or Running at once.' })
  maxConcurrentBackfills!: number;
}

/** Only the hash of a token is stored; `displayPrefix` tells tokens apart. */
@ObjectType({ description: 'An API token of the team (only its hash is stored).' })
export class ApiToken {
  @Field(() => ID, { description: 'The token id (not the token).' })
  id!: string;

  @Field({ description: 'The name given on create.' })
  name!: string;

  @Field({ description: 'The first characters of the token, to tell tokens apart.' })
  displayPrefix!: string;

  @Field(() => [TokenScopeEnum], { description: 'What the token may do.' })
  scopes!: TokenScopeEnum[];

  @Field(() => Date, { description: 'When the token was created.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Refreshed at most once a minute.' })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the token was revoked; null while it works.' })
  revokedAt!: Date | null;
}

@ObjectType({ description: 'A page of API tokens.' })
export class ApiTokenConnection extends ConnectionType('ApiToken', ApiToken, { itemsDescription: 'API tokens' }) {}

@ObjectType({ description: 'A new token and, once, its secret value.' })
export class CreatedApiToken {
  @Field({ description: 'The token itself. Shown only in this response; store it now.' })
  token!: string;

  @Field(() => ApiToken, { description: 'The stored token.' })
  apiToken!: ApiToken;
}
