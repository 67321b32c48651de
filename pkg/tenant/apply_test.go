package tenant

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	fakedynamic "k8s.io/client-go/dynamic/fake"
	fakekubernetes "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// fakeCluster is a fake dynamic client that serves server-side apply the way the API server
// does for what Add needs: it creates a missing object and replaces the fields of an existing
// one, bumping its resource version only when something changed. fail, when it returns an
// error for a resource, makes applies of that resource fail.
func fakeCluster(t *testing.T, fail func(schema.GroupVersionResource) error, objects ...runtime.Object) *fakedynamic.FakeDynamicClient {
	t.Helper()
	listKinds := map[schema.GroupVersionResource]string{}
	for _, r := range removalOrder {
		listKinds[r] = "List"
	}
	listKinds[clusterRolesResource] = "List"
	c := fakedynamic.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objects...)
	version := 100
	c.PrependReactor("patch", "*", func(action clienttesting.Action) (bool, runtime.Object, error) {
		patch := action.(clienttesting.PatchAction)
		if patch.GetPatchType() != types.ApplyPatchType {
			return false, nil, nil
		}
		r := patch.GetResource()
		if fail != nil {
			if err := fail(r); err != nil {
				return true, nil, err
			}
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(patch.GetPatch()); err != nil {
			return true, nil, err
		}
		tracker := c.Tracker()
		live, err := tracker.Get(r, patch.GetNamespace(), patch.GetName())
		switch {
		case apierrors.IsNotFound(err):
			version++
			obj.SetResourceVersion(strconv.Itoa(version))
			return true, obj, tracker.Create(r, obj, patch.GetNamespace())
		case err != nil:
			return true, nil, err
		}
		old := live.(*unstructured.Unstructured)
		obj.SetResourceVersion(old.GetResourceVersion())
		if cmp.Equal(old.Object, obj.Object) {
			return true, old, nil
		}
		version++
		obj.SetResourceVersion(strconv.Itoa(version))
		return true, obj, tracker.Update(r, obj, patch.GetNamespace())
	})
	return c
}

func recorder() (*[]Change, func(Change)) {
	var changes []Change
	return &changes, func(c Change) { changes = append(changes, c) }
}

func actions(changes []Change) []string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Ref+" "+string(c.Action))
	}
	return out
}

var alice = Spec{Name: "alice", MinExecutors: 3}.WithDefaults()

func TestAddTwiceChangesNothingTheSecondTime(t *testing.T) {
	ctx := context.Background()
	c := Cluster{Dynamic: fakeCluster(t, nil)}
	first, report := recorder()
	if _, err := Add(ctx, c, alice, report); err != nil {
		t.Fatal(err)
	}
	for _, ch := range *first {
		if ch.Action != Created {
			t.Errorf("first add: %s %s, want created", ch.Ref, ch.Action)
		}
	}
	if len(*first) != 9 {
		t.Errorf("first add reported %d objects, want 9: %v", len(*first), actions(*first))
	}
	second, report := recorder()
	if _, err := Add(ctx, c, alice, report); err != nil {
		t.Fatal(err)
	}
	for _, ch := range *second {
		if ch.Action != Unchanged {
			t.Errorf("second add: %s %s, want unchanged", ch.Ref, ch.Action)
		}
	}
	third, report := recorder()
	more := alice
	more.MinExecutors = 5
	if _, err := Add(ctx, c, more, report); err != nil {
		t.Fatal(err)
	}
	if got := actions(*third)[8]; got != "farm.farmcontroller.toinfn.it/alice configured" {
		t.Errorf("add with a new minimum: last change %q, want the Farm configured", got)
	}
}

func TestAddRollsBackWhatItCreated(t *testing.T) {
	ctx := context.Background()
	// The namespace exists and belongs to no tenant: it must survive the rollback.
	existing := &unstructured.Unstructured{}
	existing.SetAPIVersion("v1")
	existing.SetKind("Namespace")
	existing.SetName("alice")
	refused := apierrors.NewForbidden(FarmsResource.GroupResource(), "alice", errors.New("farms are the administrator's"))
	fake := fakeCluster(t, func(r schema.GroupVersionResource) error {
		if r == FarmsResource {
			return refused
		}
		return nil
	}, existing)
	changes, report := recorder()
	_, err := Add(ctx, Cluster{Dynamic: fake}, alice, report)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "applying farm.farmcontroller.toinfn.it/alice in namespace alice") {
		t.Fatalf("Add with the Farm refused: got err %v, want the refusal naming the Farm", err)
	}
	want := []string{
		"namespace/alice kept",
		"resourcequota/farm-non-executors created",
		"serviceaccount/alice created",
		"role.rbac.authorization.k8s.io/alice created",
		"rolebinding.rbac.authorization.k8s.io/alice created",
		"clusterrole.rbac.authorization.k8s.io/farm-tenant-cluster-reader created",
		"clusterrolebinding.rbac.authorization.k8s.io/farm-tenant:alice created",
		"service/spark-driver created",
		"service/spark-driver rolled back",
		"clusterrolebinding.rbac.authorization.k8s.io/farm-tenant:alice rolled back",
		"rolebinding.rbac.authorization.k8s.io/alice rolled back",
		"role.rbac.authorization.k8s.io/alice rolled back",
		"serviceaccount/alice rolled back",
		"resourcequota/farm-non-executors rolled back",
	}
	if diff := cmp.Diff(want, actions(*changes)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	for _, o := range []struct {
		r               schema.GroupVersionResource
		namespace, name string
	}{
		{serviceAccountsResource, "alice", "alice"},
		{rolesResource, "alice", "alice"},
		{roleBindingsResource, "alice", "alice"},
		{clusterRoleBindingsResource, "", "farm-tenant:alice"},
		{servicesResource, "alice", DriverServiceName},
		{resourceQuotasResource, "alice", NonExecutorQuotaName},
	} {
		if _, err := fake.Resource(o.r).Namespace(o.namespace).Get(ctx, o.name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s %s after rollback: got err %v, want NotFound", o.r.Resource, o.name, err)
		}
	}
	ns, err := fake.Resource(namespacesResource).Get(ctx, "alice", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the namespace that existed before: %v", err)
	}
	if diff := cmp.Diff(PodSecurityLabels("baseline"), ns.GetLabels()); diff != "" {
		t.Errorf("labels of the namespace that existed before: only the Pod Security labels, not the tenant's (-want +got):\n%s", diff)
	}
}

func TestAddRefusesObjectsItDoesNotOwn(t *testing.T) {
	labelled := func(gvr schema.GroupVersionResource, kind, namespace, name string, labels map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(gvr.GroupVersion().String())
		u.SetKind(kind)
		u.SetNamespace(namespace)
		u.SetName(name)
		u.SetLabels(labels)
		return u
	}
	tests := []struct {
		name     string
		existing *unstructured.Unstructured
		want     string
	}{
		{"another tenant's namespace", labelled(namespacesResource, "Namespace", "", "alice", map[string]string{LabelTenant: "bob"}),
			`namespace/alice belongs to tenant "bob"`},
		{"a hand-made driver service", labelled(servicesResource, "Service", "alice", "spark-driver", nil),
			"service/spark-driver in namespace alice exists and was not created by kubectl farm"},
		{"a foreign cluster role of the same name", labelled(clusterRolesResource, "ClusterRole", "", ClusterReaderRole, nil),
			"is not managed by kubectl farm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakeCluster(t, nil, tt.existing)
			changes, report := recorder()
			_, err := Add(context.Background(), Cluster{Dynamic: fake}, alice, report)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got err %v, want %q", err, tt.want)
			}
			if len(*changes) != 0 {
				t.Errorf("a refused add changed %v", actions(*changes))
			}
		})
	}
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	fake := fakeCluster(t, nil)
	c := Cluster{Dynamic: fake}
	if _, err := Add(ctx, c, alice, func(Change) {}); err != nil {
		t.Fatal(err)
	}
	bob := Spec{Name: "bob", MinExecutors: 1}.WithDefaults()
	if _, err := Add(ctx, c, bob, func(Change) {}); err != nil {
		t.Fatal(err)
	}
	changes, report := recorder()
	if err := Remove(ctx, c, "alice", report); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"farm.farmcontroller.toinfn.it/alice deleted",
		"service/spark-driver deleted",
		"resourcequota/farm-non-executors deleted",
		"rolebinding.rbac.authorization.k8s.io/alice deleted",
		"role.rbac.authorization.k8s.io/alice deleted",
		"serviceaccount/alice deleted",
		"clusterrolebinding.rbac.authorization.k8s.io/farm-tenant:alice deleted",
		"namespace/alice deleted",
	}
	if diff := cmp.Diff(want, actions(*changes)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if _, err := fake.Resource(FarmsResource).Namespace("bob").Get(ctx, "bob", metav1.GetOptions{}); err != nil {
		t.Errorf("bob's Farm after removing alice: %v", err)
	}
	if _, err := fake.Resource(clusterRolesResource).Get(ctx, ClusterReaderRole, metav1.GetOptions{}); err != nil {
		t.Errorf("the shared cluster reader role after removing alice: %v", err)
	}
	if err := Remove(ctx, c, "alice", func(Change) {}); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing alice twice: got err %v, want ErrNotFound", err)
	}
}

func TestIssueToken(t *testing.T) {
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		token   string
		wantErr string
	}{
		{"issued", "abc", ""},
		{"empty token", "", "empty token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fakekubernetes.NewClientset(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "alice", Name: "alice"}})
			var asked int64
			cs.PrependReactor("create", "serviceaccounts", func(action clienttesting.Action) (bool, runtime.Object, error) {
				create := action.(clienttesting.CreateAction)
				if create.GetSubresource() != "token" {
					return false, nil, nil
				}
				req := create.GetObject().(*authenticationv1.TokenRequest)
				asked = *req.Spec.ExpirationSeconds
				req = req.DeepCopy()
				req.Status = authenticationv1.TokenRequestStatus{Token: tt.token, ExpirationTimestamp: metav1.NewTime(expires)}
				return true, req, nil
			})
			got, err := IssueToken(context.Background(), Cluster{ServiceAccounts: cs.CoreV1()}, alice, 48*time.Hour)
			if asked != 48*3600 {
				t.Errorf("asked for %d seconds, want %d", asked, 48*3600)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Token{Value: "abc", Expires: expires}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
