import { DataSource } from 'typeorm';
import { AppConfig } from './libs/config';
import { buildDataSourceOptions } from './libs/database/data-source-options';

/**
 * DataSource for the TypeORM CLI (`npm run migration:run|revert|generate`). It connects as the
 * owner role: DATABASE_ADMIN_URL, else DATABASE_URL. For the embedded database, start it
 * (`npm start`) and use the owner URL it prints.
 */
const config = AppConfig.load(process.env);
const url = config.get('DATABASE_ADMIN_URL') ?? config.get('DATABASE_URL');
if (!url) {
  throw new Error('Set DATABASE_ADMIN_URL (or DATABASE_URL) for the TypeORM CLI; `npm start` prints the embedded URL.');
}

export default new DataSource(buildDataSourceOptions({ url, applicationName: 'calmops:typeorm-cli', poolSize: 2 }));
