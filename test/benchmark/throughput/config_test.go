package throughput

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/toinfn/farm/manifests"
)

// The variant without the scorer must differ from what users run by the scorer alone, or its
// figures would compare something else.
func TestWithoutScoreIsTheShippedConfig(t *testing.T) {
	shipped, variant := shippedAnd(t, "testdata/farm-without-score.yaml")
	profiles, _ := variant["profiles"].([]any)
	if len(profiles) != 1 {
		t.Fatalf("the variant has %d profiles, want 1", len(profiles))
	}
	plugins, _ := profiles[0].(map[string]any)["plugins"].(map[string]any)
	want := map[string]any{"disabled": []any{map[string]any{"name": "Farm"}}}
	if diff := cmp.Diff(want, plugins["score"]); diff != "" {
		t.Errorf("the variant's score plugins (-want +got):\n%s", diff)
	}
	delete(plugins, "score")
	if diff := cmp.Diff(shipped, variant); diff != "" {
		t.Errorf("testdata/farm-without-score.yaml differs from the shipped config by more than Farm's Score (-shipped +variant):\n%s", diff)
	}
}

// The batching baseline is the stock profile with the shipped profile's settings of the in-tree
// plugins, and nothing else, so that it batches as the farm profile does.
func TestStockBatchingHasTheShippedPluginSettings(t *testing.T) {
	shipped, variant := shippedAnd(t, "testdata/scheduler-stock-batching.yaml")
	pluginConfig := func(cfg map[string]any) []any {
		profiles, _ := cfg["profiles"].([]any)
		if len(profiles) != 1 {
			t.Fatalf("%d profiles, want 1", len(profiles))
		}
		pcs, _ := profiles[0].(map[string]any)["pluginConfig"].([]any)
		return pcs
	}
	var want []any
	for _, pc := range pluginConfig(shipped) {
		if pc.(map[string]any)["name"] != "Farm" {
			want = append(want, pc)
		}
	}
	if len(want) == 0 {
		t.Fatal("the shipped profile configures no in-tree plugin")
	}
	if diff := cmp.Diff(want, pluginConfig(variant)); diff != "" {
		t.Errorf("the batching baseline's pluginConfig differs from the shipped profile's in-tree plugins (-shipped +variant):\n%s", diff)
	}
	profile := variant["profiles"].([]any)[0].(map[string]any)
	delete(profile, "pluginConfig")
	stock := map[string]any{"schedulerName": "default-scheduler"}
	if diff := cmp.Diff(stock, profile); diff != "" {
		t.Errorf("the batching baseline's profile has more than the stock profile and the plugin settings (-want +got):\n%s", diff)
	}
}

// shippedAnd decodes the shipped scheduler configuration and the variant at path.
func shippedAnd(t *testing.T, path string) (shipped, variant map[string]any) {
	t.Helper()
	if err := yaml.Unmarshal(manifests.SchedulerConfig, &shipped); err != nil {
		t.Fatalf("decoding the shipped scheduler config: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &variant); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return shipped, variant
}
