// Package farmstatus is the one-line-per-farm summary that kubectl farm status prints: each
// Farm's guarantee and ceiling and what farm-controller last reported about it. It reads Farm
// status and counts nothing itself, so it always agrees with the scheduler and the controller,
// which both count through package quota.
package farmstatus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// Row is one farm.
type Row struct {
	Namespace    string `json:"namespace"`
	Name         string `json:"name"`
	MinExecutors int32  `json:"minExecutors"`
	// MaxExecutors is the ceiling; 0 is none.
	MaxExecutors int32 `json:"maxExecutors"`
	Running      int32 `json:"running"`
	Pending      int32 `json:"pending"`
	// Borrowed is the farm's overquota: assigned executors beyond its minimum.
	Borrowed int32 `json:"borrowed"`
	// Reclaiming counts executors being evicted by a reclaim, still terminating.
	Reclaiming int32 `json:"reclaiming"`
	// GuaranteeMet is the GuaranteeMet condition: True, False, or Unknown until farm-controller
	// has reported on the farm.
	GuaranteeMet metav1.ConditionStatus `json:"guaranteeMet"`
}

// Summary is every farm, ordered by namespace and name.
type Summary struct {
	Farms []Row `json:"farms"`
}

// Of summarizes farms.
func Of(farms []farmv1alpha1.Farm) Summary {
	s := Summary{Farms: make([]Row, 0, len(farms))}
	for i := range farms {
		f := &farms[i]
		met := metav1.ConditionUnknown
		if c := meta.FindStatusCondition(f.Status.Conditions, farmv1alpha1.FarmGuaranteeMet); c != nil {
			met = c.Status
		}
		s.Farms = append(s.Farms, Row{
			Namespace:    f.Namespace,
			Name:         f.Name,
			MinExecutors: f.Spec.MinExecutors,
			MaxExecutors: f.Spec.MaxExecutors,
			Running:      f.Status.RunningExecutors,
			Pending:      f.Status.PendingExecutors,
			Borrowed:     f.Status.Overquota,
			Reclaiming:   f.Status.ReclaimingExecutors,
			GuaranteeMet: met,
		})
	}
	sort.Slice(s.Farms, func(i, j int) bool {
		a, b := s.Farms[i], s.Farms[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return s
}

// List reads the Farms of namespace, or of every namespace when it is empty.
func List(ctx context.Context, c dynamic.Interface, namespace string) ([]farmv1alpha1.Farm, error) {
	list, err := c.Resource(farmv1alpha1.GroupVersion.WithResource("farms")).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing farms: %w", err)
	}
	farms := make([]farmv1alpha1.Farm, len(list.Items))
	for i := range list.Items {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(list.Items[i].Object, &farms[i]); err != nil {
			return nil, fmt.Errorf("reading farm %s/%s: %w", list.Items[i].GetNamespace(), list.Items[i].GetName(), err)
		}
	}
	return farms, nil
}

// Formats are the output formats Print accepts.
var Formats = []string{"table", "json", "yaml"}

// Print writes s in format: table, json or yaml.
func Print(w io.Writer, s Summary, format string) error {
	switch format {
	case "table", "":
		return printTable(w, s)
	case "json":
		data, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	case "yaml":
		data, err := yaml.Marshal(s)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	default:
		return fmt.Errorf("unknown output format %q: want one of %v", format, Formats)
	}
}

func printTable(w io.Writer, s Summary) error {
	if len(s.Farms) == 0 {
		_, err := fmt.Fprintln(w, "No farms found.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tNAME\tMIN\tMAX\tRUNNING\tPENDING\tBORROWED\tRECLAIMING\tGUARANTEE MET")
	for _, r := range s.Farms {
		max := "-"
		if r.MaxExecutors > 0 {
			max = fmt.Sprint(r.MaxExecutors)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\n",
			r.Namespace, r.Name, r.MinExecutors, max, r.Running, r.Pending, r.Borrowed, r.Reclaiming, r.GuaranteeMet)
	}
	return tw.Flush()
}
