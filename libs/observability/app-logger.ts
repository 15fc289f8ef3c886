import { Injectable } from '@nestjs/common';
import { Logger } from 'nestjs-pino';

/** Nest's own boot chatter (a line per module and per route): useful when debugging only. */
const FRAMEWORK_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/**
 * The Nest logger of every role: nestjs-pino's, with the framework's boot lines moved from info
 * to debug, so that at info a start shows a handful of lines, not one per route.
 */
@Injectable()
export class AppLogger extends Logger {
  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams[optionalParams.length - 1];
    if (typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context)) {
      super.debug(message, ...optionalParams);
      return;
    }
    super.log(message, ...optionalParams);
  }
}
