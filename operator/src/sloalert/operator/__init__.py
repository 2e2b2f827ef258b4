"""The SLOAlert operator: kopf handlers around the pure rule generator.

Layers, bottom up: settings (typed environment), selection and status (pure), kube (the only
module that talks to the Kubernetes API), retries (what kopf does not retry), reconcile (load ->
generate -> render -> apply -> status), metrics, bridge (kopf's world to the reconciler's),
runtime (the parts, built at start-up), handlers (kopf decorators only) and main (the
`sloalert-operator` entry point).

The names it invents live in `sloalert.conventions`, beside the generator's.
"""
