package v1alpha1

import (
	"encoding/json"
	"testing"
)

// The printer columns of `kubectl get farmmanagers` read the counts: a zero must be written as 0,
// or the column shows nothing.
func TestFarmManagerStatusWritesZeroCounts(t *testing.T) {
	data, err := json.Marshal(FarmManagerStatus{})
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"farms", "totalOverquota", "totalUnderquota", "totalPending", "totalTobescaledown"} {
		if v, ok := fields[name]; !ok || v != float64(0) {
			t.Errorf("status.%s = %v (present: %v), want 0 written out", name, v, ok)
		}
	}
}
