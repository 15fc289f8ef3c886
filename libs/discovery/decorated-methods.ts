import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';

export interface DecoratedMethod<T> {
  /** The decorator's metadata. */
  meta: T;
  /** `ClassName.method`, for queue names and messages. */
  owner: string;
  method: string;
  /** Calls the method on its provider instance. */
  call: (...args: unknown[]) => Promise<unknown>;
}

/**
 * Every method of a singleton provider that carries metadata under `key` (set with
 * SetMetadata by a method decorator such as @JobHandler, @OnDomainEvent or @MaintenanceTask).
 * Request-scoped and transient providers are skipped: they have no instance to call.
 */
export function findDecoratedMethods<T>(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  reflector: Reflector,
  key: symbol | string,
): DecoratedMethod<T>[] {
  const found: DecoratedMethod<T>[] = [];
  for (const wrapper of discovery.getProviders()) {
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
    for (const method of scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
      const fn = instance[method] as (...args: unknown[]) => Promise<unknown>;
      const meta = reflector.get<T | undefined>(key, fn);
      if (meta === undefined) continue;
      found.push({
        meta,
        owner: instance.constructor.name,
        method,
        call: (...args: unknown[]) => fn.apply(instance, args),
      });
    }
  }
  return found;
}
