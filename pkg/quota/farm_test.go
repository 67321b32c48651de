package quota

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// farmBuilder builds test Farms. A new Farm is created at baseTime and selects nothing useful
// until selector is set.
type farmBuilder struct {
	farm farmv1alpha1.Farm
}

func makeFarm(namespace, name string) *farmBuilder {
	return &farmBuilder{farm: farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         namespace,
			Name:              name,
			CreationTimestamp: metav1.NewTime(baseTime),
		},
	}}
}

func (b *farmBuilder) selector(key, value string) *farmBuilder {
	b.farm.Spec.LabelKey = key
	b.farm.Spec.LabelValue = value
	return b
}

// created sets the creation time to baseTime plus d.
func (b *farmBuilder) created(d time.Duration) *farmBuilder {
	b.farm.CreationTimestamp = metav1.NewTime(baseTime.Add(d))
	return b
}

func (b *farmBuilder) limits(lo, hi int32) *farmBuilder {
	b.farm.Spec.MinExecutors = lo
	b.farm.Spec.MaxExecutors = hi
	return b
}

func (b *farmBuilder) obj() *farmv1alpha1.Farm {
	return b.farm.DeepCopy()
}

func key(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}

func TestTypeOfAndString(t *testing.T) {
	cases := []struct {
		name       string
		farm       *farmv1alpha1.Farm
		want       Type
		wantString string
	}{
		{
			name:       "key and value",
			farm:       makeFarm("team-a", "f").selector("spark-role", "executor").obj(),
			want:       Type{LabelKey: "spark-role", LabelValue: "executor"},
			wantString: "spark-role=executor",
		},
		{
			name:       "prefixed key",
			farm:       makeFarm("team-a", "f").selector("example.com/role", "exec").obj(),
			want:       Type{LabelKey: "example.com/role", LabelValue: "exec"},
			wantString: "example.com/role=exec",
		},
		{
			name:       "empty value",
			farm:       makeFarm("team-a", "f").selector("spark-role", "").obj(),
			want:       Type{LabelKey: "spark-role"},
			wantString: "spark-role=",
		},
		{
			name:       "namespace and limits are not part of the type",
			farm:       makeFarm("team-b", "g").selector("spark-role", "executor").limits(3, 9).obj(),
			want:       Type{LabelKey: "spark-role", LabelValue: "executor"},
			wantString: "spark-role=executor",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := TypeOf(tc.farm)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("TypeOf (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantString, got.String()); diff != "" {
				t.Errorf("Type.String (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKeyAndLimitsOf(t *testing.T) {
	cases := []struct {
		name       string
		farm       *farmv1alpha1.Farm
		wantKey    types.NamespacedName
		wantString string
		wantLimits Limits
	}{
		{
			name:       "no limits",
			farm:       makeFarm("team-a", "spark").obj(),
			wantKey:    types.NamespacedName{Namespace: "team-a", Name: "spark"},
			wantString: "team-a/spark",
			wantLimits: Limits{},
		},
		{
			name:       "min and max",
			farm:       makeFarm("team-b", "batch").limits(2, 10).obj(),
			wantKey:    types.NamespacedName{Namespace: "team-b", Name: "batch"},
			wantString: "team-b/batch",
			wantLimits: Limits{Min: 2, Max: 10},
		},
		{
			name:       "min only",
			farm:       makeFarm("team-b", "batch").limits(4, 0).obj(),
			wantKey:    types.NamespacedName{Namespace: "team-b", Name: "batch"},
			wantString: "team-b/batch",
			wantLimits: Limits{Min: 4},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := Key(tc.farm)
			if diff := cmp.Diff(tc.wantKey, k); diff != "" {
				t.Errorf("Key (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantString, k.String()); diff != "" {
				t.Errorf("Key.String (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantLimits, LimitsOf(tc.farm)); diff != "" {
				t.Errorf("LimitsOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSelects(t *testing.T) {
	farm := makeFarm("team-a", "spark").selector("spark-role", "executor").obj()
	emptyValueFarm := makeFarm("team-a", "marker").selector("spark-role", "").obj()
	cases := []struct {
		name string
		farm *farmv1alpha1.Farm
		pod  *corev1.Pod
		want bool
	}{
		{
			name: "same namespace, matching label",
			farm: farm,
			pod:  makePod("team-a", "p").label("spark-role", "executor").obj(),
			want: true,
		},
		{
			name: "matching label among others",
			farm: farm,
			pod:  makePod("team-a", "p").label("app", "spark").label("spark-role", "executor").obj(),
			want: true,
		},
		{
			name: "matching label, any pod state",
			farm: farm,
			pod:  makePod("team-a", "p").label("spark-role", "executor").node("n").phase(corev1.PodFailed).terminating().obj(),
			want: true,
		},
		{
			name: "other namespace, matching label",
			farm: farm,
			pod:  makePod("team-b", "p").label("spark-role", "executor").obj(),
			want: false,
		},
		{
			name: "no labels",
			farm: farm,
			pod:  makePod("team-a", "p").obj(),
			want: false,
		},
		{
			name: "label key missing",
			farm: farm,
			pod:  makePod("team-a", "p").label("app", "executor").obj(),
			want: false,
		},
		{
			name: "different value",
			farm: farm,
			pod:  makePod("team-a", "p").label("spark-role", "driver").obj(),
			want: false,
		},
		{
			name: "empty value on pod",
			farm: farm,
			pod:  makePod("team-a", "p").label("spark-role", "").obj(),
			want: false,
		},
		{
			name: "key differs in case",
			farm: farm,
			pod:  makePod("team-a", "p").label("Spark-Role", "executor").obj(),
			want: false,
		},
		{
			name: "value differs in case",
			farm: farm,
			pod:  makePod("team-a", "p").label("spark-role", "Executor").obj(),
			want: false,
		},
		{
			name: "empty farm value selects pod with key and empty value",
			farm: emptyValueFarm,
			pod:  makePod("team-a", "p").label("spark-role", "").obj(),
			want: true,
		},
		{
			name: "empty farm value does not select pod without the key",
			farm: emptyValueFarm,
			pod:  makePod("team-a", "p").label("app", "").obj(),
			want: false,
		},
		{
			name: "empty farm value does not select pod with a non-empty value",
			farm: emptyValueFarm,
			pod:  makePod("team-a", "p").label("spark-role", "executor").obj(),
			want: false,
		},
		{
			name: "empty farm value, pod with no labels",
			farm: emptyValueFarm,
			pod:  makePod("team-a", "p").obj(),
			want: false,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Selects(tc.farm, tc.pod)); diff != "" {
				t.Errorf("Selects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSameSelector(t *testing.T) {
	base := makeFarm("team-a", "a").selector("spark-role", "executor").created(0).limits(1, 2).obj()
	cases := []struct {
		name string
		b    *farmv1alpha1.Farm
		want bool
	}{
		{name: "same namespace and type, other name, time and limits", b: makeFarm("team-a", "b").selector("spark-role", "executor").created(time.Hour).limits(5, 0).obj(), want: true},
		{name: "itself", b: base, want: true},
		{name: "other namespace", b: makeFarm("team-b", "a").selector("spark-role", "executor").obj(), want: false},
		{name: "other key", b: makeFarm("team-a", "b").selector("role", "executor").obj(), want: false},
		{name: "other value", b: makeFarm("team-a", "b").selector("spark-role", "driver").obj(), want: false},
		{name: "empty value", b: makeFarm("team-a", "b").selector("spark-role", "").obj(), want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, SameSelector(base, tc.b)); diff != "" {
				t.Errorf("SameSelector(a, b) (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, SameSelector(tc.b, base)); diff != "" {
				t.Errorf("SameSelector(b, a) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOlder(t *testing.T) {
	cases := []struct {
		name string
		a, b *farmv1alpha1.Farm
		// wantAB is Older(a, b) and wantBA is Older(b, a).
		wantAB, wantBA bool
	}{
		{
			name:   "earlier creation wins",
			a:      makeFarm("team-a", "z").created(0).obj(),
			b:      makeFarm("team-a", "a").created(time.Second).obj(),
			wantAB: true,
		},
		{
			name:   "earlier creation wins over namespace and name",
			a:      makeFarm("team-z", "z").created(0).obj(),
			b:      makeFarm("team-a", "a").created(time.Minute).obj(),
			wantAB: true,
		},
		{
			name:   "later creation loses",
			a:      makeFarm("team-a", "a").created(time.Hour).obj(),
			b:      makeFarm("team-a", "b").created(0).obj(),
			wantBA: true,
		},
		{
			name:   "sub-second difference still counts",
			a:      makeFarm("team-a", "z").created(time.Millisecond).obj(),
			b:      makeFarm("team-a", "a").created(2 * time.Millisecond).obj(),
			wantAB: true,
		},
		{
			name:   "equal timestamps, same namespace: smaller name wins",
			a:      makeFarm("team-a", "alpha").obj(),
			b:      makeFarm("team-a", "beta").obj(),
			wantAB: true,
		},
		{
			name:   "equal timestamps, same namespace: larger name loses",
			a:      makeFarm("team-a", "beta").obj(),
			b:      makeFarm("team-a", "alpha").obj(),
			wantBA: true,
		},
		{
			name:   "equal timestamps: smaller namespace wins before name",
			a:      makeFarm("team-a", "zz").obj(),
			b:      makeFarm("team-b", "aa").obj(),
			wantAB: true,
		},
		{
			name:   "equal timestamps, same name: smaller namespace wins",
			a:      makeFarm("team-b", "spark").obj(),
			b:      makeFarm("team-a", "spark").obj(),
			wantBA: true,
		},
		{
			name: "same farm is not older than itself",
			a:    makeFarm("team-a", "spark").obj(),
			b:    makeFarm("team-a", "spark").obj(),
		},
		{
			name: "same key and time, other selector: neither is older",
			a:    makeFarm("team-a", "spark").selector("k", "v").obj(),
			b:    makeFarm("team-a", "spark").selector("k", "w").obj(),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.wantAB, Older(tc.a, tc.b)); diff != "" {
				t.Errorf("Older(a, b) (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantBA, Older(tc.b, tc.a)); diff != "" {
				t.Errorf("Older(b, a) (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOlderTotalOrder checks that Older is a strict total order over distinct Farms: for every
// pair exactly one is older, and it is transitive, so sorting by it gives the literal order below.
func TestOlderTotalOrder(t *testing.T) {
	// want is the expected order, oldest first.
	want := []types.NamespacedName{
		key("team-z", "z"),  // created first
		key("team-a", "a"),  // second, alone
		key("team-a", "b"),  // third, tie broken by namespace then name
		key("team-a", "c"),  //
		key("team-b", "a"),  //
		key("team-a", "a2"), // fourth
	}
	farms := []*farmv1alpha1.Farm{
		makeFarm("team-a", "a2").created(3 * time.Second).obj(),
		makeFarm("team-b", "a").created(2 * time.Second).obj(),
		makeFarm("team-a", "c").created(2 * time.Second).obj(),
		makeFarm("team-a", "a").created(time.Second).obj(),
		makeFarm("team-a", "b").created(2 * time.Second).obj(),
		makeFarm("team-z", "z").created(0).obj(),
	}
	for _, a := range farms {
		for _, b := range farms {
			ab, ba := Older(a, b), Older(b, a)
			if a == b {
				if ab {
					t.Errorf("Older(%v, itself) = true", Key(a))
				}
				continue
			}
			if ab == ba {
				t.Errorf("Older(%v, %v) = %v and Older(%v, %v) = %v, want exactly one true", Key(a), Key(b), ab, Key(b), Key(a), ba)
			}
			for _, c := range farms {
				if ab && Older(b, c) && !Older(a, c) {
					t.Errorf("not transitive: %v < %v < %v but not %v < %v", Key(a), Key(b), Key(c), Key(a), Key(c))
				}
			}
		}
	}
	sorted := slices.Clone(farms)
	slices.SortFunc(sorted, func(a, b *farmv1alpha1.Farm) int {
		switch {
		case Older(a, b):
			return -1
		case Older(b, a):
			return 1
		}
		return 0
	})
	var got []types.NamespacedName
	for _, f := range sorted {
		got = append(got, Key(f))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("farms sorted by Older (-want +got):\n%s", diff)
	}
}

func TestOwner(t *testing.T) {
	const k, v = "spark-role", "executor"
	executor := makePod("team-a", "exec-1").label(k, v).obj()
	cases := []struct {
		name  string
		farms []*farmv1alpha1.Farm
		pod   *corev1.Pod
		// want is the owner's key, or the zero key for none.
		want types.NamespacedName
	}{
		{
			name: "no farms",
			pod:  executor,
		},
		{
			name:  "one selecting farm",
			farms: []*farmv1alpha1.Farm{makeFarm("team-a", "spark").selector(k, v).obj()},
			pod:   executor,
			want:  key("team-a", "spark"),
		},
		{
			name:  "farm in another namespace does not own",
			farms: []*farmv1alpha1.Farm{makeFarm("team-b", "spark").selector(k, v).obj()},
			pod:   executor,
		},
		{
			name:  "farm with another value does not own",
			farms: []*farmv1alpha1.Farm{makeFarm("team-a", "spark").selector(k, "driver").obj()},
			pod:   executor,
		},
		{
			name: "same selector: older owns",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "young").selector(k, v).created(time.Minute).obj(),
				makeFarm("team-a", "old").selector(k, v).created(0).obj(),
			},
			pod:  executor,
			want: key("team-a", "old"),
		},
		{
			name: "same selector, same time: smaller name owns",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "beta").selector(k, v).obj(),
				makeFarm("team-a", "alpha").selector(k, v).obj(),
			},
			pod:  executor,
			want: key("team-a", "alpha"),
		},
		{
			name: "three same-selector farms: oldest owns",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "second").selector(k, v).created(time.Second).obj(),
				makeFarm("team-a", "third").selector(k, v).created(2 * time.Second).obj(),
				makeFarm("team-a", "first").selector(k, v).created(0).obj(),
			},
			pod:  executor,
			want: key("team-a", "first"),
		},
		{
			name: "older farm in another namespace is ignored",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-b", "old").selector(k, v).created(0).obj(),
				makeFarm("team-a", "young").selector(k, v).created(time.Hour).obj(),
			},
			pod:  executor,
			want: key("team-a", "young"),
		},
		{
			name: "older non-selecting farm is ignored",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "old").selector("other", v).created(0).obj(),
				makeFarm("team-a", "young").selector(k, v).created(time.Hour).obj(),
			},
			pod:  executor,
			want: key("team-a", "young"),
		},
		{
			name: "partial overlap, pod with both labels: older owns",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "role").selector(k, v).created(time.Minute).obj(),
				makeFarm("team-a", "app").selector("app", "spark").created(0).obj(),
			},
			pod:  makePod("team-a", "p").label(k, v).label("app", "spark").obj(),
			want: key("team-a", "app"),
		},
		{
			name: "partial overlap, pod with only the younger farm's label",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "role").selector(k, v).created(time.Minute).obj(),
				makeFarm("team-a", "app").selector("app", "spark").created(0).obj(),
			},
			pod:  executor,
			want: key("team-a", "role"),
		},
		{
			name: "nothing selects the pod",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "role").selector(k, "driver").obj(),
				makeFarm("team-a", "app").selector("app", "spark").obj(),
			},
			pod: executor,
		},
	}
	for _, tc := range cases {
		// The owner must not depend on the order of the Farms.
		for _, order := range []string{"given", "reversed"} {
			t.Run(fmt.Sprintf("%s/%s order", tc.name, order), func(t *testing.T) {
				farms := slices.Clone(tc.farms)
				if order == "reversed" {
					slices.Reverse(farms)
				}
				var got types.NamespacedName
				if o := Owner(farms, tc.pod); o != nil {
					got = Key(o)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("Owner (-want +got):\n%s", diff)
				}
			})
		}
	}
}
