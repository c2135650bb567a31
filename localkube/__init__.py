"""A local Kubernetes control plane for the engine tests and for `make up` without a cluster."""
