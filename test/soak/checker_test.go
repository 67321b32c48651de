package soak

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

// The checker's builders: a cluster of one four-executor node, farms by namespace.

const testKey = "spark-role"

func testFarm(ns string, min int32) *farmv1alpha1.Farm {
	return &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ns},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: testKey, LabelValue: "executor", MinExecutors: min},
	}
}

func testExecutor(ns string, i int, node string) *corev1.Pod {
	p := harness.ExecutorPod(ns, fmt.Sprintf("%s-%d", ns, i), testKey, "executor")
	p.UID = types.UID(p.Name)
	p.CreationTimestamp = metav1.NewTime(time.Unix(int64(i), 0))
	p.Spec.NodeName = node
	return p
}

func evicted(p *corev1.Pod) *corev1.Pod {
	p = p.DeepCopy()
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI"})
	return p
}

// fullCluster: borrower a (minimum 0) fills the node with four executors; b (minimum 1) has one
// executor waiting; n is a notebook of no Farm, pending.
func fullCluster(t0 time.Time) (*Checker, map[string]*corev1.Pod) {
	c := NewChecker(10*time.Second, 5*time.Second, time.Second)
	c.NodeChanged(harness.NewNode("node", harness.DefaultNodeShape))
	c.FarmChanged(testFarm("a", 0), false)
	c.FarmChanged(testFarm("b", 1), false)
	pods := map[string]*corev1.Pod{}
	for i := range 4 {
		p := testExecutor("a", i, "node")
		pods[p.Name] = p
	}
	pods["b-0"] = testExecutor("b", 0, "")
	notebook := testExecutor("a", 9, "node")
	notebook.Labels = map[string]string{"app": "notebook"}
	notebook.Spec.NodeName = ""
	pods["notebook"] = notebook
	for _, p := range pods {
		c.PodChanged(nil, p, t0.Add(-time.Minute))
	}
	return c, pods
}

func TestCheckerEvictions(t *testing.T) {
	t0 := time.Unix(1000, 0)
	cases := []struct {
		name string
		// evict lists the pods evicted, in order.
		evict []string
		// setup changes the cluster before the evictions.
		setup func(c *Checker, pods map[string]*corev1.Pod)
		want  string
	}{
		{name: "one borrowed executor for one guaranteed", evict: []string{"a-0"}},
		{name: "a second one while the first is leaving", evict: []string{"a-0", "a-1"}, want: "fit without it"},
		{name: "a pod of no Farm", evict: []string{"notebook"}, want: "a pod of no Farm"},
		{name: "from a farm at its minimum", evict: []string{"a-0"},
			setup: func(c *Checker, _ map[string]*corev1.Pod) { c.FarmChanged(testFarm("a", 4), false) },
			want:  "below its minimum"},
		{name: "with nobody waiting", evict: []string{"a-0"},
			setup: func(c *Checker, pods map[string]*corev1.Pod) { c.PodDeleted(pods["b-0"], t0.Add(-time.Minute)) },
			want:  "no executor of its type waited"},
		{name: "room was free", evict: []string{"a-0"},
			setup: func(c *Checker, pods map[string]*corev1.Pod) { c.PodDeleted(pods["a-3"], t0.Add(-time.Minute)) },
			want:  "fit without it"},
		// b's driver ended a job: its old executor terminates while the next job's waits. As
		// farm-scheduler counts, the terminating one holds no place: b is below its minimum.
		{name: "a farm whose old executor terminates waits below its minimum", evict: []string{"a-0"},
			setup: func(c *Checker, pods map[string]*corev1.Pod) {
				c.PodDeleted(pods["a-3"], t0.Add(-time.Second/2))
				old := testExecutor("b", 5, "node")
				old.DeletionTimestamp = &metav1.Time{Time: t0}
				c.PodChanged(nil, old, t0.Add(-time.Minute))
			}},
		{name: "room freed within the window is not held against it", evict: []string{"a-0"},
			setup: func(c *Checker, pods map[string]*corev1.Pod) { c.PodDeleted(pods["a-3"], t0.Add(-time.Second/2)) }},
		// The scheduler may have planned before the pod found room of its own.
		{name: "room the waiting pod took within the window is not held against it", evict: []string{"a-0"},
			setup: func(c *Checker, pods map[string]*corev1.Pod) {
				c.PodDeleted(pods["a-3"], t0.Add(-time.Minute))
				bound := pods["b-0"].DeepCopy()
				bound.Spec.NodeName = "node"
				c.PodChanged(pods["b-0"], bound, t0.Add(-time.Second/2))
				pods["b-0"] = bound
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, pods := fullCluster(t0)
			if tc.setup != nil {
				tc.setup(c, pods)
			}
			for i, name := range tc.evict {
				c.PodChanged(pods[name], evicted(pods[name]), t0.Add(time.Duration(i)*time.Millisecond))
			}
			r := c.Report()
			if r.Evictions != len(tc.evict) {
				t.Errorf("evictions counted: %d, want %d", r.Evictions, len(tc.evict))
			}
			switch {
			case tc.want == "" && len(r.Violations) > 0:
				t.Errorf("violations: %q, want none", r.Violations)
			case tc.want != "" && (len(r.Violations) != 1 || !strings.Contains(r.Violations[0], tc.want)):
				t.Errorf("violations: %q, want one saying %q", r.Violations, tc.want)
			}
		})
	}
}

func TestCheckerGuarantees(t *testing.T) {
	t0 := time.Unix(1000, 0)
	cases := []struct {
		name string
		// minA is the borrower's minimum: at 4, nothing may be evicted for b.
		minA   int32
		kill   bool
		after  time.Duration
		want   string
		unmeet int
	}{
		{name: "within the bound", after: 9 * time.Second},
		{name: "past the bound, meetable", after: 11 * time.Second, want: "waited 11.0s below its minimum"},
		{name: "past the bound, unmeetable", minA: 4, after: 11 * time.Second, unmeet: 1},
		{name: "a failover extends the bound", kill: true, after: 14 * time.Second},
		{name: "past the extended bound", kill: true, after: 16 * time.Second, want: "waited 16.0s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, pods := fullCluster(t0)
			c.FarmChanged(testFarm("a", tc.minA), false)
			c.Tick(t0)
			if tc.kill {
				c.LeaderKilled(t0.Add(time.Second))
			}
			c.Tick(t0.Add(tc.after))
			r := c.Report()
			switch {
			case tc.want == "" && len(r.Violations) > 0:
				t.Errorf("violations: %q, want none", r.Violations)
			case tc.want != "" && (len(r.Violations) != 1 || !strings.Contains(r.Violations[0], tc.want)):
				t.Errorf("violations: %q, want one saying %q", r.Violations, tc.want)
			}
			if r.Unmeetable != tc.unmeet {
				t.Errorf("unmeetable waits: %d, want %d", r.Unmeetable, tc.unmeet)
			}
			// Once b runs, the wait is over and its length recorded.
			bound := pods["b-0"].DeepCopy()
			bound.Spec.NodeName = "node"
			c.PodChanged(pods["b-0"], bound, t0.Add(tc.after+time.Second))
			c.Tick(t0.Add(tc.after + time.Second))
			if got := c.Report().Served; len(got) != 1 || got[0] != tc.after+time.Second {
				t.Errorf("served: %v, want [%s]", got, tc.after+time.Second)
			}
		})
	}
}
