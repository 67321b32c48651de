// Package v1alpha1 holds the Farm and FarmManager API, group farmcontroller.toinfn.it.
//
// A Farm guarantees a tenant a minimum number of executor pods and lets it borrow idle capacity
// beyond that; a FarmManager reports on every Farm of one farm type. The field names are those of
// the original farm operator, so its custom resources apply unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=farmcontroller.toinfn.it
package v1alpha1
