/**
 * For the TypeORM CLI: `npx typeorm migration:run -d dist/ormconfig.js` (after `npm run build`), with DATABASE_URL set.
 * Outport runs pending migrations itself at start-up, so this is only needed to manage them by hand.
 */
import 'reflect-metadata';
import { createDataSource } from './src/store/data-source';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is not set: the TypeORM CLI needs the metadata database to migrate');

export default createDataSource(url);
