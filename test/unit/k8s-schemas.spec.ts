import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * Every object in docker/k8s validated against the Kubernetes API's OpenAPI schemas, with the
 * `kubernetes-models` package's validators (generated from the upstream API definitions): the
 * types, required fields and enums the API server would check when the file is applied.
 */
const DIR = join(__dirname, '..', '..', 'docker', 'k8s');

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: object) => Validatable;

/** `apps/v1` → `kubernetes-models/apps/v1`; the core group `v1` → `kubernetes-models/v1`. */
function modelFor(apiVersion: string, kind: string): ModelClass {
  const group = require(`kubernetes-models/${apiVersion}`) as Record<string, ModelClass>;
  const model = group[kind];
  if (!model) throw new Error(`kubernetes-models has no ${kind} in ${apiVersion}`);
  return model;
}

const objects = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => ({
      file,
      object: doc.toJS() as { apiVersion: string; kind: string; metadata: { name: string } },
    })),
  );

describe('docker/k8s against the Kubernetes API schemas (kubernetes-models)', () => {
  it('finds the deployments, their autoscalers, the jobs and the config', () => {
    const kinds = objects.map((o) => `${o.object.apiVersion} ${o.object.kind} ${o.object.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'apps/v1 Deployment calmops-api',
        'apps/v1 Deployment calmops-worker',
        'autoscaling/v2 HorizontalPodAutoscaler calmops-api',
        'autoscaling/v2 HorizontalPodAutoscaler calmops-worker',
        'batch/v1 Job calmops-migrate',
        'v1 Service calmops-api',
        'v1 ConfigMap calmops-config',
        'v1 Secret calmops-secrets',
      ]),
    );
  });

  it.each(objects.map((o) => [`${o.file}: ${o.object.kind} ${o.object.metadata.name}`, o.object]))(
    '%s is valid',
    (_name, object) => {
      const { apiVersion, kind } = object as { apiVersion: string; kind: string };
      expect(() => new (modelFor(apiVersion, kind))(object as object).validate()).not.toThrow();
    },
  );

  it('the validator refuses what the API server would (so the checks above can fail)', () => {
    const api = objects.find((o) => o.object.kind === 'Deployment')!.object as unknown as {
      spec: { template: { spec: { containers: { ports?: { containerPort: unknown }[] }[] } } };
    };
    const broken = structuredClone(api);
    broken.spec.template.spec.containers[0].ports = [{ containerPort: 'http' }];
    expect(() => new (modelFor('apps/v1', 'Deployment'))(broken).validate()).toThrow(/containerPort must be integer/);
    const hpa = objects.find((o) => o.object.kind === 'HorizontalPodAutoscaler')!.object as unknown as {
      spec: Record<string, unknown>;
    };
    const noTarget = structuredClone(hpa);
    delete noTarget.spec.scaleTargetRef;
    expect(() => new (modelFor('autoscaling/v2', 'HorizontalPodAutoscaler'))(noTarget).validate()).toThrow(
      /scaleTargetRef/,
    );
  });
});
