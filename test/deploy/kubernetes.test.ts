import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import t from "tap";
import { parseAllDocuments } from "yaml";
import { configSchema, loadConfig } from "../../src/config.js";

/**
 * deploy/kubernetes: every manifest is valid against the Kubernetes schemas (unknown fields
 * included, so a typo fails), every kustomization's references exist, and the pieces fit:
 * selectors and labels, Services and ports, probes and ports, names of ConfigMaps and Secrets,
 * the NATS cluster's routes, Brigade's settings and the grace periods.
 */

const root = join(import.meta.dirname, "../../deploy/kubernetes");
type Obj = Record<string, any>;
interface Manifest {
  file: string;
  doc: Obj;
}

const models: Record<string, { prototype: { validate(): void } }> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "v1/ConfigMap": ConfigMap,
  "v1/Namespace": Namespace,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
};

/**
 * Validates `doc` with the model's schema validator and lists the fields the schema does not
 * know. The compiled validators read every property their schema defines and enumerate the
 * keys of maps (labels, data), so a key that was neither read nor enumerated is unknown to the
 * schema: what `kubectl apply --validate=strict` would refuse.
 */
function validateStrict(model: { prototype: { validate(): void } }, doc: Obj): { error?: string; unknown: string[] } {
  const seen = new Map<object, { read: Set<string>; listed: boolean }>();
  const wrap = (value: unknown): unknown => {
    if (!value || typeof value !== "object") return value;
    const record = { read: new Set<string>(), listed: false };
    seen.set(value, record);
    return new Proxy(value, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof prop !== "string" || !Object.hasOwn(target, prop)) return v;
        record.read.add(prop);
        return wrap(v);
      },
      ownKeys(target) {
        record.listed = true;
        return Reflect.ownKeys(target);
      },
    });
  };
  let error: string | undefined;
  try {
    model.prototype.validate.call(wrap(doc));
  } catch (err) {
    error = (err as Error).message;
  }
  const unknown: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (!value || typeof value !== "object") return;
    const record = seen.get(value);
    for (const key of Object.keys(value)) {
      const here = `${path}.${key}`;
      if (!record || (!record.listed && !record.read.has(key))) unknown.push(here);
      else walk((value as Obj)[key], here);
    }
  };
  walk(doc, "");
  return { ...(error ? { error } : {}), unknown };
}

/** The shape of a CloudNativePG Cluster (its CRD is not part of the Kubernetes schemas). */
function validateCnpgCluster(doc: Obj): string[] {
  const problems: string[] = [];
  const known = {
    top: ["apiVersion", "kind", "metadata", "spec"],
    spec: [
      ...["instances", "imageName", "primaryUpdateStrategy", "enablePDB", "bootstrap", "postgresql", "storage", "resources"],
      ...["backup", "monitoring", "affinity", "walStorage", "superuserSecret", "description", "logLevel"],
    ],
  };
  for (const k of Object.keys(doc)) if (!known.top.includes(k)) problems.push(`unknown field .${k}`);
  const spec = doc.spec ?? {};
  for (const k of Object.keys(spec)) if (!known.spec.includes(k)) problems.push(`unknown field .spec.${k}`);
  if (doc.apiVersion !== "postgresql.cnpg.io/v1") problems.push("apiVersion must be postgresql.cnpg.io/v1");
  if (!Number.isInteger(spec.instances) || spec.instances < 1) problems.push(".spec.instances must be a positive integer");
  if (typeof spec.storage?.size !== "string" || !/^\d+(Ki|Mi|Gi|Ti)$/.test(spec.storage.size))
    problems.push(".spec.storage.size must be a quantity");
  if (typeof spec.bootstrap?.initdb?.database !== "string" || typeof spec.bootstrap?.initdb?.owner !== "string")
    problems.push(".spec.bootstrap.initdb needs database and owner");
  for (const [k, v] of Object.entries(spec.postgresql?.parameters ?? {}))
    if (typeof v !== "string") problems.push(`.spec.postgresql.parameters.${k} must be a string`);
  return problems;
}

function readYaml(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS() as Obj;
    })
    .filter((d) => d !== null);
}

/**
 * What `kubectl apply -k dir` would apply, before patches and name changes: the documents of
 * every resource, following kustomizations into folders. Checks that every path it names exists.
 */
function collect(dir: string, problems: string[], base = root): Manifest[] {
  const kustomization = readYaml(join(dir, "kustomization.yaml"))[0]!;
  const out: Manifest[] = [];
  const where = relative(base, join(dir, "kustomization.yaml"));
  for (const component of kustomization.components ?? []) {
    const path = join(dir, component);
    if (!existsSync(join(path, "kustomization.yaml"))) problems.push(`${where}: component ${component} does not exist`);
    else out.push(...collect(path, problems, base));
  }
  for (const resource of kustomization.resources ?? []) {
    const path = join(dir, resource);
    if (!existsSync(path)) {
      problems.push(`${where}: resource ${resource} does not exist`);
      continue;
    }
    if (statSync(path).isDirectory()) out.push(...collect(path, problems, base));
    else out.push(...readYaml(path).map((doc) => ({ file: relative(base, path), doc })));
  }
  for (const patch of kustomization.patches ?? [])
    if (patch.path && !existsSync(join(dir, patch.path))) problems.push(`${where}: patch ${patch.path} does not exist`);
  for (const generator of kustomization.configMapGenerator ?? []) {
    const files: string[] = generator.files ?? [];
    for (const f of files) if (!existsSync(join(dir, f))) problems.push(`${where}: generator file ${f} does not exist`);
    out.push({
      file: where,
      doc: {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: generator.name },
        data: Object.fromEntries(
          files.filter((f) => existsSync(join(dir, f))).map((f) => [f.split("/").pop()!, readFileSync(join(dir, f), "utf8")]),
        ),
      },
    });
  }
  // A Secret's keys: one per file, one per line of an env file (values are not kept).
  for (const generator of kustomization.secretGenerator ?? []) {
    const keys: string[] = [];
    for (const f of generator.files ?? []) {
      if (existsSync(join(dir, f))) keys.push(f.split("/").pop()!);
      else problems.push(`${where}: generator file ${f} does not exist`);
    }
    for (const f of generator.envs ?? []) {
      if (!existsSync(join(dir, f))) {
        problems.push(`${where}: generator env file ${f} does not exist`);
        continue;
      }
      for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
        const key = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line)?.[1];
        if (key) keys.push(key);
      }
    }
    out.push({
      file: where,
      doc: { apiVersion: "v1", kind: "Secret", metadata: { name: generator.name }, data: Object.fromEntries(keys.map((k) => [k, ""])) },
    });
  }
  return out;
}

const allYamlFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? allYamlFiles(p) : p.endsWith(".yaml") ? [p] : [];
  });

const matches = (selector: Obj | undefined, labels: Obj | undefined) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

t.test("every manifest under deploy/kubernetes is valid against its schema, with no unknown field", async (t) => {
  const files = allYamlFiles(root).filter((f) => !f.endsWith("kustomization.yaml"));
  t.ok(files.length >= 15, `${files.length} manifest files`);
  let checked = 0;
  for (const file of files) {
    for (const doc of readYaml(file)) {
      const name = `${relative(root, file)}: ${doc.kind}/${doc.metadata?.name}`;
      if (doc.kind === "Cluster") {
        t.same(validateCnpgCluster(doc), [], `${name} has the CloudNativePG Cluster's shape`);
        checked++;
        continue;
      }
      // A strategic-merge patch is a partial object: only its field names are checked.
      const isPatch = relative(root, file).includes("-patch");
      const model = models[`${doc.apiVersion}/${doc.kind}`];
      if (!model) {
        t.fail(`${name}: no schema for ${doc.apiVersion} ${doc.kind}`);
        continue;
      }
      const result = validateStrict(model, doc);
      if (!isPatch) t.notOk(result.error, `${name} is valid${result.error ? `: ${result.error}` : ""}`);
      t.same(result.unknown, [], `${name} has no unknown field`);
      checked++;
    }
  }
  t.ok(checked >= 20, `${checked} documents checked`);
});

t.test("the schema check catches a typo and a wrong type", async (t) => {
  const deployment = readYaml(join(root, "base/brigade/deployment.yaml"))[0]!;
  const container = deployment.spec.template.spec.containers[0];
  const typo = structuredClone(deployment);
  typo.spec.template.spec.containers[0] = { ...container, readinesProbe: container.readinessProbe };
  t.same(validateStrict(Deployment, typo).unknown, [".spec.template.spec.containers.0.readinesProbe"]);
  const wrongType = structuredClone(deployment);
  wrongType.spec.template.spec.containers[0].ports[0].containerPort = "8080";
  t.match(validateStrict(Deployment, wrongType).error, /containerPort must be integer/);
  t.same(validateCnpgCluster({ apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", spec: { instance: 3 } }).slice(0, 2), [
    "unknown field .spec.instance",
    ".spec.instances must be a positive integer",
  ]);
});

for (const overlay of ["example", "trial"]) {
  t.test(`overlays/${overlay}: the references are consistent`, async (t) => {
    const problems: string[] = [];
    const manifests = collect(join(root, "overlays", overlay), problems);
    t.same(problems, [], "every resource, patch and generator file exists");
    const of = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
    const byName = (kind: string, name: string) => of(kind).find((d) => d.metadata.name === name);
    const workloads = [...of("Deployment"), ...of("StatefulSet")];

    // A CloudNativePG Cluster named X provides the Secret X-app and the Service X-rw.
    const secrets = new Set([...of("Secret").map((d) => d.metadata.name), ...of("Cluster").map((d) => `${d.metadata.name}-app`)]);
    const configMaps = new Set(of("ConfigMap").map((d) => d.metadata.name));

    for (const w of workloads) {
      const name = `${w.kind}/${w.metadata.name}`;
      const pod = w.spec.template;
      t.ok(matches(w.spec.selector.matchLabels, pod.metadata.labels), `${name}: its selector matches its pods' labels`);
      for (const c of pod.spec.containers) {
        const ports = new Set((c.ports ?? []).map((p: Obj) => p.name));
        for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
          const port = c[probe]?.httpGet?.port;
          if (typeof port === "string") t.ok(ports.has(port), `${name}: ${probe} uses a declared port (${port})`);
        }
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) t.ok(configMaps.has(from.configMapRef.name), `${name}: ConfigMap ${from.configMapRef.name} exists`);
          if (from.secretRef) t.ok(secrets.has(from.secretRef.name), `${name}: Secret ${from.secretRef.name} exists`);
        }
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) t.ok(secrets.has(ref.name), `${name}: Secret ${ref.name} (for ${e.name}) exists`);
        }
      }
      for (const v of pod.spec.volumes ?? [])
        if (v.configMap) t.ok(configMaps.has(v.configMap.name), `${name}: ConfigMap ${v.configMap.name} (volume) exists`);
      if (w.kind === "StatefulSet") {
        const headless = byName("Service", w.spec.serviceName);
        t.ok(headless, `${name}: its service ${w.spec.serviceName} exists`);
      }
    }

    for (const s of of("Service")) {
      const targets = workloads.filter((w) => matches(s.spec.selector, w.spec.template.metadata.labels));
      t.equal(targets.length, 1, `Service/${s.metadata.name} selects one workload's pods`);
      const declared = new Set(
        targets.flatMap((w) => w.spec.template.spec.containers.flatMap((c: Obj) => (c.ports ?? []).map((p: Obj) => p.name))),
      );
      for (const p of s.spec.ports)
        if (typeof p.targetPort === "string")
          t.ok(declared.has(p.targetPort), `Service/${s.metadata.name}: targetPort ${p.targetPort} is declared`);
    }
    for (const kind of ["PodDisruptionBudget", "NetworkPolicy"])
      for (const d of of(kind))
        t.ok(
          workloads.some((w) => matches(d.spec.selector?.matchLabels ?? d.spec.podSelector?.matchLabels, w.spec.template.metadata.labels)),
          `${kind}/${d.metadata.name} selects some pods`,
        );
    for (const hpa of of("HorizontalPodAutoscaler")) {
      const target = byName(hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name);
      t.ok(target, `HPA/${hpa.metadata.name} scales an existing ${hpa.spec.scaleTargetRef.kind}`);
      t.ok(hpa.spec.minReplicas <= target?.spec.replicas, "its minimum does not exceed the Deployment's replicas");
    }

    // Brigade: probes, settings, grace periods.
    const brigade = byName("Deployment", "brigade")!;
    const container = brigade.spec.template.spec.containers[0];
    t.equal(container.readinessProbe.httpGet.path, "/readyz", "readiness is /readyz");
    t.equal(container.livenessProbe.httpGet.path, "/healthz", "liveness is /healthz");
    t.ok(container.resources.requests && container.resources.limits, "requests and limits are set");
    const settings = byName("ConfigMap", "brigade-config")!.data as Record<string, string>;
    const known = Object.keys(configSchema.shape);
    t.same(
      Object.keys(settings).filter((k) => !known.includes(k)),
      [],
      "every key of brigade-config is a Brigade setting",
    );
    const config = loadConfig({ ...settings, DATABASE_URL: "postgres://u:p@brigade-db-rw:5432/brigade", METRICS_TOKEN: "x".repeat(16) });
    t.ok(
      brigade.spec.template.spec.terminationGracePeriodSeconds > config.SHUTDOWN_GRACE_SECONDS &&
        config.SHUTDOWN_GRACE_SECONDS > config.SHUTDOWN_DRAIN_DELAY_SECONDS,
      "terminationGracePeriodSeconds > SHUTDOWN_GRACE_SECONDS > SHUTDOWN_DRAIN_DELAY_SECONDS",
    );
    t.ok(
      container.readinessProbe.periodSeconds * container.readinessProbe.failureThreshold < config.SHUTDOWN_DRAIN_DELAY_SECONDS,
      "the readiness probe notices a draining replica within the drain delay",
    );
    t.equal(new URL(config.NATS_URL!).hostname, "nats", "NATS_URL names the NATS Service");
    t.ok(byName("Service", "nats"), "which exists");

    // NATS: the routes name every node through the headless Service; the config's variables are set.
    const nats = byName("StatefulSet", "nats")!;
    const natsEnv = new Map<string, string>(nats.spec.template.spec.containers[0].env.map((e: Obj) => [e.name, e.value]));
    const routes = [...natsEnv.entries()].filter(([k]) => k.startsWith("NATS_ROUTE_")).map(([, v]) => v);
    t.same(
      routes,
      Array.from({ length: nats.spec.replicas }, (_, i) => `nats://nats-${i}.${nats.spec.serviceName}:6222`),
      "one route per node, through the headless Service",
    );
    t.equal(byName("Service", nats.spec.serviceName)?.spec.clusterIP, "None", "the route Service is headless");
    t.ok(config.NATS_STREAM_REPLICAS <= nats.spec.replicas, "NATS_STREAM_REPLICAS fits the cluster");
    const conf = byName("ConfigMap", "nats-config")!.data["nats-cluster.conf"] as string;
    const variables = [...new Set([...conf.matchAll(/\$([A-Z_0-9]+)/g)].map((m) => m[1]!))];
    t.same(
      variables.filter((v) => !natsEnv.has(v)),
      [],
      "every variable of nats-cluster.conf is set in the StatefulSet",
    );
    t.equal(routes.length, (conf.match(/\$NATS_ROUTE_\d/g) ?? []).length, "the config lists as many routes as there are nodes");

    // kubectl, when installed, builds the overlay (patches, images, namespace) into the same objects.
    const kubectl = spawnSync("kubectl", ["kustomize", join(root, "overlays", overlay)], { encoding: "utf8" });
    if (kubectl.error) {
      t.comment("kubectl is not installed: the overlay was not built with kustomize");
      return;
    }
    t.equal(kubectl.status, 0, `kubectl kustomize succeeds${kubectl.stderr ? `: ${kubectl.stderr}` : ""}`);
    const built = parseAllDocuments(kubectl.stdout).map((d) => d.toJS() as Obj);
    const key = (d: Obj) => `${d.kind}/${d.metadata.name}`;
    t.same(built.map(key).sort(), manifests.map((m) => key(m.doc)).sort(), "the same objects");
    for (const doc of built) {
      const model = models[`${doc.apiVersion}/${doc.kind}`];
      if (!model) continue;
      const result = validateStrict(model, doc);
      t.notOk(result.error ?? result.unknown[0], `built ${key(doc)} is valid`);
    }
    const builtBrigade = built.find((d) => key(d) === "Deployment/brigade")!;
    t.match(builtBrigade.spec.template.spec.containers[0].image, /^(registry\.example\.com\/acme\/brigade:0\.1\.0|brigade:latest)$/);
  });
}

t.test("overlays/nats-operator: the generated keys, the component's patches and the NATS configuration fit together", async (t) => {
  // A copy of deploy/kubernetes, with the keys generated by the documented command.
  const copy = mkdtempSync(join(tmpdir(), "brigade-k8s-"));
  t.teardown(() => rmSync(copy, { recursive: true, force: true }));
  cpSync(root, copy, { recursive: true });
  const component = join(copy, "components/nats-operator");
  const secrets = join(component, "secrets");
  const statefulSetPatch = readYaml(join(component, "nats-statefulset-patch.yaml"))[0]!;
  const deploymentPatch = readYaml(join(component, "brigade-deployment-patch.yaml"))[0]!;
  const brigadeContainer = deploymentPatch.spec.template.spec.containers[0];
  const credsPath = brigadeContainer.env.find((e: Obj) => e.name === "NATS_CREDS_FILE").value as string;
  const generate = spawnSync(
    process.execPath,
    ["--import=tsx", join(import.meta.dirname, "../../scripts/nats-operator.ts"), secrets, "--creds-path", credsPath],
    { encoding: "utf8" },
  );
  t.equal(generate.status, 0, generate.stderr);
  for (const f of ["auth.conf", "brigade.env", "brigade-server.creds"])
    t.equal(statSync(join(secrets, f)).mode & 0o777, 0o600, `secrets/${f} is owner-only`);

  const problems: string[] = [];
  const manifests = collect(join(copy, "overlays/nats-operator"), problems, copy);
  t.same(problems, [], "every resource, component, patch and generator file exists");
  const byName = (kind: string, name: string) => manifests.find((m) => m.doc.kind === kind && m.doc.metadata?.name === name)?.doc;

  // The patches name what the base has.
  const nats = byName("StatefulSet", statefulSetPatch.metadata.name);
  t.ok(nats, "the StatefulSet patch names the NATS StatefulSet");
  t.same(
    statefulSetPatch.spec.template.spec.containers.map((c: Obj) => c.name),
    [nats?.spec.template.spec.containers[0].name],
    "and its container",
  );
  const brigade = byName("Deployment", deploymentPatch.metadata.name);
  t.ok(brigade, "the Deployment patch names Brigade's Deployment");
  t.equal(brigadeContainer.name, brigade?.spec.template.spec.containers[0].name, "and its container");

  // /etc/nats: the projected volume replaces the base's config volume and holds every file the
  // configuration includes.
  const volume = statefulSetPatch.spec.template.spec.volumes.find((v: Obj) => v.name === "config");
  t.ok(
    nats?.spec.template.spec.volumes.some((v: Obj) => v.name === "config"),
    "the patched volume is the base's config volume",
  );
  const provided = new Map<string, string>();
  for (const source of volume.projected.sources) {
    const ref = source.configMap ?? source.secret;
    const doc = byName(source.configMap ? "ConfigMap" : "Secret", ref.name);
    t.ok(doc, `${source.configMap ? "ConfigMap" : "Secret"} ${ref.name} exists`);
    for (const k of Object.keys(doc?.data ?? {})) provided.set(k, ref.name);
  }
  const args = statefulSetPatch.spec.template.spec.containers[0].args as string[];
  const started = args[args.indexOf("-c") + 1]!;
  const mount = nats?.spec.template.spec.containers[0].volumeMounts.find((m: Obj) => m.name === "config").mountPath;
  t.equal(started, `${mount}/nats-operator.conf`, "NATS starts from nats-operator.conf in the mounted folder");
  const operatorConf = readFileSync(join(component, "nats-operator.conf"), "utf8");
  const includes = [...operatorConf.matchAll(/^include\s+\.\/(\S+)/gm)].map((m) => m[1]!);
  t.same(includes.sort(), ["auth.conf", "nats-cluster.conf"], "it includes the cluster and the operator configuration");
  for (const f of [...includes, "nats-operator.conf"]) t.ok(provided.has(f), `${f} is in the projected volume`);
  t.match(readFileSync(join(secrets, "auth.conf"), "utf8"), /^operator: /m, "auth.conf holds the operator");

  // Brigade: the creds file where NATS_CREDS_FILE says, the other settings from the Secret.
  const generated = byName("Secret", "brigade-nats");
  const credsVolume = deploymentPatch.spec.template.spec.volumes.find((v: Obj) => v.secret?.secretName === "brigade-nats");
  const credsMount = brigadeContainer.volumeMounts.find((m: Obj) => m.name === credsVolume?.name);
  t.equal(`${credsMount?.mountPath}/${credsVolume?.secret.items[0].path}`, credsPath, "NATS_CREDS_FILE is the mounted creds file");
  t.ok(Object.hasOwn(generated?.data ?? {}, credsVolume?.secret.items[0].key), "which the Secret holds");
  for (const e of brigadeContainer.env.filter((e: Obj) => e.valueFrom))
    t.ok(Object.hasOwn(generated?.data ?? {}, e.valueFrom.secretKeyRef.key), `${e.name} comes from a key of the Secret`);
  const env = Object.fromEntries(
    readFileSync(join(secrets, "brigade.env"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  t.equal(env.NATS_CREDS_FILE, credsPath, "the generated settings name the same creds path");
  const config = loadConfig({
    ...env,
    NATS_URL: "nats://nats:4222",
    DATABASE_URL: "postgres://u:p@brigade-db-rw:5432/brigade",
    METRICS_TOKEN: "x".repeat(16),
  });
  t.equal(config.NATS_CLIENT_ACCOUNT, env.NATS_CLIENT_ACCOUNT, "Brigade accepts the generated settings");
});
