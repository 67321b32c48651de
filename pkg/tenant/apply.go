package tenant

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Cluster is what adding and removing tenants needs from the API server.
type Cluster struct {
	// Dynamic applies, reads and deletes the tenant's objects.
	Dynamic dynamic.Interface
	// ServiceAccounts issues service account tokens (TokenRequest).
	ServiceAccounts corev1client.ServiceAccountsGetter
	// DryRun, when set, makes Add and Remove report what they would do.
	DryRun DryRun
}

// Action is what happened to an object.
type Action string

const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
	// Kept is a namespace that existed before and belongs to no tenant: it is used as it is,
	// with the tenant's Pod Security labels.
	Kept       Action = "kept"
	Deleted    Action = "deleted"
	RolledBack Action = "rolled back"
)

// Change is one object and what happened to it.
type Change struct {
	Ref    string
	Action Action
}

// ErrNotFound is returned by Remove for a tenant that has no objects.
var ErrNotFound = errors.New("tenant not found")

// Added is the result of a successful Add.
type Added struct {
	cluster Cluster
	created []Object
	report  func(Change)
}

// Add applies the tenant's objects (s must be defaulted and valid). It first checks that none of
// them belongs to someone else, so the common conflicts change nothing. If an apply fails
// midway, Add deletes the objects this run created before returning the error; objects that
// existed before are left in place. A second Add with the same Spec changes nothing.
// In a server dry run, objects in a namespace that does not exist yet are reported Unchecked.
func Add(ctx context.Context, c Cluster, s Spec, report func(Change)) (*Added, error) {
	if c.DryRun == ClientDryRun {
		return nil, errors.New("a client dry run of adding a tenant is its Objects; Add needs the API server")
	}
	objects, err := Objects(s)
	if err != nil {
		return nil, err
	}
	live := make([]*unstructured.Unstructured, len(objects))
	namespaceMissing := false
	for i, o := range objects {
		if live[i], err = get(ctx, c.Dynamic, o); err != nil {
			return nil, err
		}
		if err := checkOwner(o, live[i], s.Name); err != nil {
			return nil, err
		}
		if o.Resource == namespacesResource && live[i] == nil {
			namespaceMissing = true
		}
	}

	added := &Added{cluster: c, report: report}
	for i, o := range objects {
		if o.Resource == namespacesResource && live[i] != nil && live[i].GetLabels()[LabelTenant] == "" {
			kept, err := keptNamespace(s)
			if err == nil {
				_, err = apply(ctx, c, Object{Resource: o.Resource, Apply: kept})
			}
			if err != nil {
				return nil, fmt.Errorf("applying Pod Security labels to %s: %w", describe(o), err)
			}
			report(Change{Ref: o.Ref(), Action: Kept})
			continue
		}
		if c.DryRun == ServerDryRun && namespaceMissing && o.Apply.GetNamespace() != "" {
			report(Change{Ref: o.Ref(), Action: Unchecked})
			continue
		}
		after, err := apply(ctx, c, o)
		if err != nil {
			err = fmt.Errorf("applying %s: %w", describe(o), err)
			if rerr := added.Rollback(ctx); rerr != nil {
				err = fmt.Errorf("%w; %w", err, rerr)
			}
			return nil, err
		}
		switch {
		case live[i] == nil:
			if !o.Shared && c.DryRun == NoDryRun {
				added.created = append(added.created, o)
			}
			report(Change{Ref: o.Ref(), Action: Created})
		case unchanged(live[i], after, c.DryRun):
			report(Change{Ref: o.Ref(), Action: Unchanged})
		default:
			report(Change{Ref: o.Ref(), Action: Configured})
		}
	}
	return added, nil
}

// Rollback deletes the objects this Add created, last first, for a caller whose own next step
// (writing the kubeconfig) failed.
func (a *Added) Rollback(ctx context.Context) error {
	var errs []error
	for i := len(a.created) - 1; i >= 0; i-- {
		o := a.created[i]
		if err := del(ctx, a.cluster, o.Resource, o.Apply.GetNamespace(), o.Apply.GetName()); err != nil {
			errs = append(errs, fmt.Errorf("rolling back %s: %w", describe(o), err))
			continue
		}
		a.report(Change{Ref: o.Ref(), Action: RolledBack})
	}
	a.created = nil
	return errors.Join(errs...)
}

// removalOrder lists the resources a tenant's objects are of, dependents first, so a tenant
// never holds rights to a namespace whose Farm is already gone. The shared cluster reader role
// is not among them.
var removalOrder = []schema.GroupVersionResource{
	FarmsResource, servicesResource, resourceQuotasResource, roleBindingsResource, rolesResource,
	serviceAccountsResource, clusterRoleBindingsResource, namespacesResource,
}

// Remove deletes every object labelled as the tenant's, wherever it is: its Farm, driver
// Service, RBAC, service account (which invalidates the tokens issued for it) and, when tenant
// add created it, its namespace with everything in it. It returns ErrNotFound when the tenant
// has no objects. A dry run reports the same deletions; only a server dry run asks the API
// server whether they would be allowed.
func Remove(ctx context.Context, c Cluster, name string, report func(Change)) error {
	selector := labels.Set{LabelTenant: name}.AsSelector().String()
	found := 0
	for _, r := range removalOrder {
		list, err := c.Dynamic.Resource(r).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return fmt.Errorf("listing %s of tenant %s: %w", r.Resource, name, err)
		}
		for _, item := range list.Items {
			found++
			if err := del(ctx, c, r, item.GetNamespace(), item.GetName()); err != nil {
				return fmt.Errorf("deleting %s %s: %w", r.Resource, namespacedName(item.GetNamespace(), item.GetName()), err)
			}
			report(Change{Ref: (Object{Resource: r, Apply: &item}).Ref(), Action: Deleted})
		}
	}
	if found == 0 {
		return fmt.Errorf("%w: no object is labelled %s", ErrNotFound, selector)
	}
	return nil
}

// checkOwner refuses to apply over an object that kubectl farm did not create for this tenant:
// applying would silently take it over, and removing the tenant would delete it.
func checkOwner(o Object, live *unstructured.Unstructured, tenant string) error {
	if live == nil {
		return nil
	}
	if live.GetDeletionTimestamp() != nil {
		return fmt.Errorf("%s is being deleted; wait until it is gone", describe(o))
	}
	l := live.GetLabels()
	switch owner := l[LabelTenant]; {
	case o.Shared:
		if l[LabelManagedBy] != FieldManager {
			return fmt.Errorf("%s exists and is not managed by kubectl farm (label %s=%s missing)", describe(o), LabelManagedBy, FieldManager)
		}
	case owner == tenant:
	case owner != "":
		return fmt.Errorf("%s belongs to tenant %q", describe(o), owner)
	case o.Resource == namespacesResource:
		// An existing namespace of no tenant is used as it is and never deleted by removal.
	default:
		return fmt.Errorf("%s exists and was not created by kubectl farm for tenant %q (label %s missing); remove it or choose another namespace", describe(o), tenant, LabelTenant)
	}
	return nil
}

func get(ctx context.Context, c dynamic.Interface, o Object) (*unstructured.Unstructured, error) {
	live, err := c.Resource(o.Resource).Namespace(o.Apply.GetNamespace()).Get(ctx, o.Apply.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", describe(o), err)
	}
	return live, nil
}

func apply(ctx context.Context, c Cluster, o Object) (*unstructured.Unstructured, error) {
	// Force: tenant add is the source of truth for the fields it sets, as a re-run with new
	// flags (a new minimum) is how an administrator changes a tenant.
	return c.Dynamic.Resource(o.Resource).Namespace(o.Apply.GetNamespace()).Apply(ctx, o.Apply.GetName(), o.Apply,
		metav1.ApplyOptions{FieldManager: FieldManager, Force: true, DryRun: c.DryRun.dryRunOption()})
}

func del(ctx context.Context, c Cluster, r schema.GroupVersionResource, namespace, name string) error {
	if c.DryRun == ClientDryRun {
		return nil
	}
	background := metav1.DeletePropagationBackground
	err := c.Dynamic.Resource(r).Namespace(namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &background, DryRun: c.DryRun.dryRunOption()})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// describe names an object with its namespace, for messages.
func describe(o Object) string {
	if ns := o.Apply.GetNamespace(); ns != "" {
		return o.Ref() + " in namespace " + ns
	}
	return o.Ref()
}

func namespacedName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
