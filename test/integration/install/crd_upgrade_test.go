package install

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

// What the older chart of the upgrade test lacks: a printer column and the status field it shows.
const (
	farmsCRD        = "farms.farmcontroller.toinfn.it"
	farmsCRDFile    = "files/crds/farmcontroller.toinfn.it_farms.yaml"
	newColumn       = "Reclaiming"
	newStatusField  = "reclaimingExecutors"
	upgradeTenantNS = "upgrade-tenant"
)

// olderChart copies the chart to a directory of its own with the Farm CRD as an older release
// shipped it: without the Reclaiming column and without status.reclaimingExecutors.
func olderChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "farm-scheduler")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(harness.ModuleRoot(t), chartDir))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, farmsCRDFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		v.AdditionalPrinterColumns = slices.DeleteFunc(v.AdditionalPrinterColumns, func(c apiextensionsv1.CustomResourceColumnDefinition) bool {
			return c.Name == newColumn
		})
		status := v.Schema.OpenAPIV3Schema.Properties["status"]
		delete(status.Properties, newStatusField)
		v.Schema.OpenAPIV3Schema.Properties["status"] = status
	}
	if data, err = yaml.Marshal(&crd); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// crdsInCRDsDir turns a copy of the chart into the layout of chart 0.1.0: the CRDs in crds/,
// which helm installs on the first install only and never owns.
func crdsInCRDsDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Rename(filepath.Join(dir, "files", "crds"), filepath.Join(dir, "crds")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "templates", "crds.yaml")); err != nil {
		t.Fatal(err)
	}
}

// servesNewSchema reports whether the served Farm CRD has the column and the status field the
// older chart lacks.
func servesNewSchema(ctx context.Context, c apiextensionsclient.Interface) (bool, error) {
	crd, err := c.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, farmsCRD, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	for _, v := range crd.Spec.Versions {
		column := slices.ContainsFunc(v.AdditionalPrinterColumns, func(c apiextensionsv1.CustomResourceColumnDefinition) bool { return c.Name == newColumn })
		_, field := v.Schema.OpenAPIV3Schema.Properties["status"].Properties[newStatusField]
		if !column || !field {
			return false, nil
		}
	}
	return true, nil
}

// `helm upgrade` upgrades the CRDs, and `helm uninstall` leaves them and the tenants' Farms:
// from a release whose chart already had its CRDs as templates, and from chart 0.1.0's crds/
// with the step the chart's README gives (--take-ownership, once).
func TestHelmUpgradeUpgradesTheCRDs(t *testing.T) {
	tests := []struct {
		name string
		// older makes the chart the release was first installed from, in dir.
		older       func(t *testing.T, dir string)
		upgradeArgs []string
	}{
		{name: "CRDs as templates", older: func(*testing.T, string) {}},
		{name: "CRDs in crds/, taken over once", older: crdsInCRDsDir, upgradeArgs: []string{"--take-ownership"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			cp := harness.StartControlPlaneWithoutCRDs(t)
			crds, err := apiextensionsclient.NewForConfig(cp.Config)
			if err != nil {
				t.Fatal(err)
			}
			kubeconfig := "--kubeconfig=" + cp.Kubeconfig
			older := olderChart(t)
			tc.older(t, older)
			if _, _, err := harness.RunHelm(t, "install", installRelease, older, "--namespace", installNamespace, "--create-namespace", kubeconfig); err != nil {
				t.Fatal(err)
			}
			// Served before the upgrade: the older schema, so the upgrade below has something to change.
			if ok, err := servesNewSchema(ctx, crds); err != nil || ok {
				t.Fatalf("after installing the older chart the Farm CRD serves the new schema (%v, %v): the test would prove nothing", ok, err)
			}

			// A tenant's Farm, created once the CRD is served.
			if err := cp.CreateNamespace(ctx, upgradeTenantNS); err != nil {
				t.Fatal(err)
			}
			farm := &farmv1alpha1.Farm{
				ObjectMeta: metav1.ObjectMeta{Namespace: upgradeTenantNS, Name: "kept"},
				Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 2},
			}
			err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
				return cp.Client.Create(ctx, farm) == nil, nil
			})
			if err != nil {
				t.Fatalf("creating a Farm after installing the older chart: %v", err)
			}

			upgrade := append([]string{"upgrade", installRelease, chartDir, "--namespace", installNamespace, kubeconfig}, tc.upgradeArgs...)
			if _, _, err := harness.RunHelm(t, upgrade...); err != nil {
				t.Fatal(err)
			}
			// Served after the upgrade: the new column, and the new status field kept, not pruned.
			err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
				if ok, err := servesNewSchema(ctx, crds); err != nil || !ok {
					return false, err
				}
				f := &farmv1alpha1.Farm{}
				if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(farm), f); err != nil {
					return false, err
				}
				f.Status.ReclaimingExecutors = 2
				if err := cp.Client.Status().Update(ctx, f); err != nil {
					return false, nil
				}
				if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(farm), f); err != nil {
					return false, err
				}
				return f.Status.ReclaimingExecutors == 2, nil
			})
			if err != nil {
				t.Fatalf("after helm upgrade the Farm CRD does not serve column %s and status.%s: %v", newColumn, newStatusField, err)
			}
			table := harness.RunCommand(ctx, t, nil, "kubectl", kubeconfig, "get", "farms", "-n", upgradeTenantNS)
			if header, _, _ := strings.Cut(table.Stdout, "\n"); table.ExitCode != 0 || !strings.Contains(header, strings.ToUpper(newColumn)) {
				t.Errorf("kubectl get farms after helm upgrade: exit %d, header %q, stderr %q; want a %s column", table.ExitCode, header, table.Stderr, strings.ToUpper(newColumn))
			}

			if _, _, err := harness.RunHelm(t, "uninstall", installRelease, "--namespace", installNamespace, kubeconfig); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{farmsCRD, "farmmanagers.farmcontroller.toinfn.it"} {
				crd, err := crds.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
				if err != nil || crd.DeletionTimestamp != nil {
					t.Errorf("CRD %s after helm uninstall: %v (deleting: %v), want it kept", name, err, err == nil && crd.DeletionTimestamp != nil)
				}
			}
			f := &farmv1alpha1.Farm{}
			if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(farm), f); err != nil || f.DeletionTimestamp != nil || f.Spec.MinExecutors != 2 {
				t.Errorf("Farm %s/%s after helm uninstall: %v, %+v; want it kept with its guarantee", farm.Namespace, farm.Name, err, f.Spec)
			}
		})
	}
}
