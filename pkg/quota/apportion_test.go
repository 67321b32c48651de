package quota

import (
	"math/big"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestApportion(t *testing.T) {
	tests := []struct {
		name      string
		need      int32
		overquota []int32
		want      []int32
	}{
		{name: "issue example: over by 6 and 2, need 4", need: 4, overquota: []int32{6, 2}, want: []int32{3, 1}},
		{name: "single victim farm", need: 4, overquota: []int32{8}, want: []int32{4}},
		{name: "need exceeds all overquota", need: 10, overquota: []int32{3, 2}, want: []int32{3, 2}},
		{name: "nothing to take", need: 3, overquota: []int32{0, 0}, want: []int32{0, 0}},
		{name: "no need", need: 0, overquota: []int32{5, 5}, want: []int32{0, 0}},
		{name: "negative need", need: -2, overquota: []int32{5}, want: []int32{0}},
		{name: "equal farms, odd need: tie to the earlier", need: 3, overquota: []int32{4, 4}, want: []int32{2, 1}},
		{name: "remainder tie broken by larger overquota", need: 2, overquota: []int32{1, 3, 2}, want: []int32{0, 1, 1}},
		{name: "largest remainder wins over order", need: 5, overquota: []int32{1, 1, 7}, want: []int32{1, 0, 4}},
		{name: "farms at their minimum get nothing", need: 2, overquota: []int32{0, 4, 0}, want: []int32{0, 2, 0}},
		{name: "the seed's ceil rule would take 3 for 1; we take 1", need: 1, overquota: []int32{1, 1, 1}, want: []int32{1, 0, 0}},
		{name: "large numbers do not overflow", need: 2_000_000_000, overquota: []int32{2_000_000_000, 1_000_000_000}, want: []int32{1_333_333_333, 666_666_667}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Apportion(tc.need, tc.overquota)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Apportion(%d, %v) (-want +got):\n%s", tc.need, tc.overquota, diff)
			}
		})
	}
}

// FuzzApportion checks the invariants of largest-remainder apportionment on arbitrary input.
func FuzzApportion(f *testing.F) {
	f.Add(int32(4), []byte{6, 2})
	f.Add(int32(1), []byte{1, 1, 1})
	f.Add(int32(100), []byte{3, 0, 250, 7})
	f.Add(int32(0), []byte{})
	f.Fuzz(func(t *testing.T, need int32, raw []byte) {
		overquota := make([]int32, len(raw))
		var total int64
		for i, b := range raw {
			overquota[i] = int32(b)
			total += int64(b)
		}
		shares := Apportion(need, overquota)
		if len(shares) != len(overquota) {
			t.Fatalf("%d shares for %d farms", len(shares), len(overquota))
		}
		wantSum := min(int64(max(need, 0)), total)
		var sum int64
		for i, s := range shares {
			sum += int64(s)
			if s < 0 || s > overquota[i] {
				t.Fatalf("share %d of farm %d outside [0, overquota %d]", s, i, overquota[i])
			}
			if total == 0 {
				continue
			}
			// |s - wantSum*o/total| < 1, in exact rational arithmetic.
			exact := new(big.Rat).SetFrac64(wantSum*int64(overquota[i]), total)
			diff := new(big.Rat).Sub(new(big.Rat).SetInt64(int64(s)), exact)
			if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 {
				t.Fatalf("share %d of farm %d is not within one of its exact share %s", s, i, exact.FloatString(3))
			}
		}
		if sum != wantSum {
			t.Fatalf("shares %v of need %d over %v sum to %d, want %d", shares, need, overquota, sum, wantSum)
		}
	})
}

func TestVictimFirst(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := func(name string, priority int32, started time.Time) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: name, CreationTimestamp: metav1.NewTime(t0)},
			Spec:       corev1.PodSpec{Priority: ptr.To(priority)},
			Status:     corev1.PodStatus{StartTime: ptr.To(metav1.NewTime(started))},
		}
	}
	notStarted := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "pending-start", CreationTimestamp: metav1.NewTime(t0.Add(10 * time.Minute))}}
	pods := []*corev1.Pod{
		pod("old-high", 100, t0),
		pod("old-low", 0, t0),
		pod("young-low", 0, t0.Add(5*time.Minute)),
		pod("young-high", 100, t0.Add(5*time.Minute)),
		pod("twin-b", 0, t0.Add(time.Minute)),
		pod("twin-a", 0, t0.Add(time.Minute)),
		notStarted,
	}
	sort.SliceStable(pods, func(i, j int) bool { return VictimFirst(pods[i], pods[j]) })
	var got []string
	for _, p := range pods {
		got = append(got, p.Name)
	}
	want := []string{"pending-start", "young-low", "twin-a", "twin-b", "old-low", "young-high", "old-high"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("victim order (-want +got):\n%s", diff)
	}
}
