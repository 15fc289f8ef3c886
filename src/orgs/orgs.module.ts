import { Module } from '@nestjs/common';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { OrgsController } from './orgs.controller';
import { OrgsService } from './orgs.service';
import { OrgsTasks } from './orgs.tasks';

/** Organizations and their API keys. */
@Module({
  controllers: [OrgsController, ApiKeysController],
  providers: [OrgsService, ApiKeysService, OrgsTasks],
  exports: [OrgsService],
})
export class OrgsModule {}

export { OrgsService };
