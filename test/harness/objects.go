package harness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// DecodeObjects splits a multi-document YAML stream into objects, skipping empty documents, as
// kubectl reads a manifest file. Whole numbers decode as int64, as in objects read from the API.
func DecodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		obj := map[string]any{}
		if err := utilyaml.Unmarshal(doc, &obj); err != nil {
			return nil, err
		}
		if len(obj) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: obj})
	}
}

// Objects reaches objects of any kind this control plane serves, found by their kind through
// discovery, as kubectl does.
type Objects struct {
	dynamic dynamic.Interface
	mapper  meta.RESTMapper
}

// Objects returns a client for objects of any kind, as the administrator.
func (cp *ControlPlane) Objects(tb TB) *Objects {
	tb.Helper()
	dyn, err := dynamic.NewForConfig(cp.Config)
	if err != nil {
		tb.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cp.Config)
	if err != nil {
		tb.Fatal(err)
	}
	return &Objects{dynamic: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))}
}

// Resource returns the client for obj's kind, in obj's namespace when the kind is namespaced
// (defaultNamespace when obj names none, as kubectl's current namespace would be).
func (o *Objects) Resource(obj *unstructured.Unstructured, defaultNamespace string) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := o.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s is not served: %w", gvk, err)
	}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		return o.dynamic.Resource(mapping.Resource), nil
	}
	ns := obj.GetNamespace()
	if ns == "" {
		ns = defaultNamespace
	}
	return o.dynamic.Resource(mapping.Resource).Namespace(ns), nil
}
