/** The parts of the OpenAPI document the security suite walks. */
export interface Schema {
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  oneOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  example?: unknown;
  $ref?: string;
}
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}
export interface Operation {
  operationId: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  'x-required-scopes'?: string[];
  'x-any-of-scopes'?: string[];
}
export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}
export const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
export type Method = (typeof METHODS)[number];

export interface Op {
  method: Method;
  path: string;
  op: Operation;
  name: string;
  isPublic: boolean;
  pathParams: string[];
  query: Parameter[];
  /** The JSON body schema (refs resolved one level), when the operation takes JSON. */
  jsonBody?: Schema;
  mediaTypes: string[];
}

export function operations(doc: OpenApiDoc): Op[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => {
      const op = item[method];
      const content = op.requestBody?.content ?? {};
      const json = content['application/json']?.schema;
      return {
        method,
        path,
        op,
        name: `${method.toUpperCase()} ${path}`,
        isPublic: Array.isArray(op.security) && op.security.length === 0,
        pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        query: (op.parameters ?? []).filter((p) => p.in === 'query'),
        jsonBody: json ? resolve(doc, json) : undefined,
        mediaTypes: Object.keys(content),
      };
    }),
  );
}

/** A schema with its $ref (and a single allOf) replaced by the referenced schema. */
export function resolve(doc: OpenApiDoc, schema: Schema): Schema {
  if (schema.$ref) return resolve(doc, doc.components.schemas[schema.$ref.split('/').pop()!]);
  if (schema.allOf?.length === 1) return { ...resolve(doc, schema.allOf[0]), nullable: schema.nullable };
  return schema;
}

/** The path with its parameters filled in by `value(name)`. */
export function fillPath(path: string, value: (name: string) => string): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) =>
    [...Buffer.from(value(name), 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  );
}
