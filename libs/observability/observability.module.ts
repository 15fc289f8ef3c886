import { Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { APP_ROLE, AppConfig } from '../config';
import { AppLogger } from './app-logger';
import { loggerParams } from './logging';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

@Global()
@Module({
  imports: [LoggerModule.forRootAsync({ inject: [AppConfig, APP_ROLE], useFactory: loggerParams })],
  controllers: [MetricsController],
  providers: [MetricsService, AppLogger],
  exports: [MetricsService, AppLogger],
})
export class ObservabilityModule {}
