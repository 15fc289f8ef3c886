import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ContentTypeGuard } from './content-type.guard';
import { HostileInputPipe } from './hostile-input.pipe';
import { ProblemDetailsFilter } from './problem-details.filter';
import { createValidationPipe } from './validation';

/** Global HTTP behaviour: validation, problem+json errors, body media types. */
@Module({
  providers: [
    // Hostile input (NUL, lone surrogates, prototype keys, absurd nesting) before validation.
    { provide: APP_PIPE, useClass: HostileInputPipe },
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    { provide: APP_GUARD, useClass: ContentTypeGuard },
  ],
})
export class HttpModule {}
