package tenant

import (
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DryRun says how much of adding or removing a tenant is carried out, as kubectl's --dry-run.
type DryRun int

const (
	// NoDryRun carries every write out.
	NoDryRun DryRun = iota
	// ClientDryRun reads what is there and writes nothing. Remove only: the client side of a dry
	// run of Add is Objects, which needs no API server at all.
	ClientDryRun
	// ServerDryRun sends every write with dryRun=All: the API server validates and admits it as
	// it would the real one, and persists nothing.
	ServerDryRun
)

// Unchecked is an object of a server dry run that the API server could not be asked about: its
// namespace does not exist yet (the dry-run namespace was never created), and the API server
// refuses even a dry-run write into a missing namespace.
const Unchecked Action = "unchecked"

// dryRunOption is the dryRun parameter of a write.
func (d DryRun) dryRunOption() []string {
	if d == ServerDryRun {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// unchanged reports whether an apply changed nothing. A server dry run answers with the stored
// resourceVersion whatever it would change, so there the objects themselves are compared.
func unchanged(live, after *unstructured.Unstructured, d DryRun) bool {
	if d == ServerDryRun {
		return equality.Semantic.DeepEqual(live.Object, after.Object)
	}
	return live.GetResourceVersion() == after.GetResourceVersion()
}
