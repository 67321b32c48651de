package reclaim

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// The controller reports a reclaim the scheduler does: while the victims terminate, the victim
// farm is Reclaiming and the FarmManager lists them to be scaled down; afterwards both settle.
func TestControllerReportsTheSchedulersReclaim(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newScenario(t, "report", 1, nil)
	s.cluster.StartControllerBinary(t)
	fm := &farmv1alpha1.FarmManager{
		ObjectMeta: metav1.ObjectMeta{Name: "farmmanager-report"},
		Spec:       farmv1alpha1.FarmManagerSpec{LabelKey: s.labelKey, LabelValue: "executor"},
	}
	if err := s.cluster.Client.Create(ctx, fm); err != nil {
		t.Fatal(err)
	}
	a := s.farm("a", 1, 0, 0)
	b := s.farm("b", 2, 0, 0)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)
	s.executors(b, 0, 2)

	var sawReclaiming, sawToBeScaledDown bool
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		f := &farmv1alpha1.Farm{}
		if err := s.cluster.Client.Get(ctx, a, f); err != nil {
			return false, err
		}
		if c := meta.FindStatusCondition(f.Status.Conditions, "Reclaiming"); c != nil && c.Status == metav1.ConditionTrue && f.Status.ReclaimingExecutors == 2 {
			sawReclaiming = true
		}
		m := &farmv1alpha1.FarmManager{}
		if err := s.cluster.Client.Get(ctx, types.NamespacedName{Name: fm.Name}, m); err != nil {
			return false, err
		}
		if m.Status.Tobescaledown[a.String()] == 2 {
			sawToBeScaledDown = true
		}
		return sawReclaiming && sawToBeScaledDown, nil
	})
	if err != nil {
		t.Fatalf("reclaim not reported: Reclaiming seen %v, tobescaledown=2 seen %v", sawReclaiming, sawToBeScaledDown)
	}
	s.waitRunning(b, 2, time.Minute)

	// Settled: b at its minimum, a at 2 with one borrowed, nothing being reclaimed.
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		m := &farmv1alpha1.FarmManager{}
		if err := s.cluster.Client.Get(ctx, types.NamespacedName{Name: fm.Name}, m); err != nil {
			return false, err
		}
		st := m.Status
		return st.Overquota[a.String()] == 1 && st.Underquota[b.String()] == 0 && st.Tobescaledown[a.String()] == 0 && st.Pending[b.String()] == 0, nil
	})
	if err != nil {
		m := &farmv1alpha1.FarmManager{}
		_ = s.cluster.Client.Get(ctx, types.NamespacedName{Name: fm.Name}, m)
		t.Fatalf("FarmManager after the reclaim: %+v", m.Status)
	}
	f := &farmv1alpha1.Farm{}
	if err := s.cluster.Client.Get(ctx, a, f); err != nil {
		t.Fatal(err)
	}
	if f.Status.LastReclaimTime == nil {
		t.Errorf("victim farm's lastReclaimTime not set after a reclaim")
	}
}
