import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'calmops:public';

/** Marks a route (or controller) as reachable without credentials. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
