// Validate prometheus-operator objects (ServiceMonitor, PrometheusRule, AlertmanagerConfig)
// against the operator's own CRD schemas, as shipped in the npm package
// @kubernetes-models/prometheus-operator (generated from the operator's CRDs).
// stdin: a JSON array of {id, manifest}; stdout: a JSON array of {id, error} (error null = valid).
import { readFileSync } from "node:fs";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { AlertmanagerConfig } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig";

const MODELS = { ServiceMonitor, PrometheusRule, AlertmanagerConfig };

const inputs = JSON.parse(readFileSync(0, "utf8"));
const results = inputs.map(({ id, manifest }) => {
  const kind = manifest.kind ?? "ServiceMonitor";
  const Model = MODELS[kind];
  if (!Model) return { id, error: `no schema for kind ${kind}` };
  try {
    new Model(manifest).validate();
    return { id, error: null };
  } catch (error) {
    return { id, error: String(error.message ?? error) };
  }
});
process.stdout.write(JSON.stringify(results));
