package input

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestGuaranteedPods(t *testing.T) {
	// Each pod is served before the next by one rule, where the rules after it say otherwise.
	pods := []*corev1.Pod{
		executor("zed", "nominated-high").priority(10).createdAfter(4 * time.Hour).nominatedTo("n1").obj(),
		executor("zed", "nominated").createdAfter(3 * time.Hour).nominatedTo("n2").obj(),
		executor("zed", "self").createdAfter(2 * time.Hour).obj(),
		executor("zed", "high").priority(10).createdAfter(time.Hour).obj(),
		executor("zed", "old").obj(),
		executor("alice", "b").createdAfter(time.Minute).obj(),
		executor("alice", "c").createdAfter(time.Minute).obj(),
		executor("bob", "a").createdAfter(time.Minute).obj(),
	}
	self := pods[2]
	nominatedTo := func(p *corev1.Pod) string { return p.Status.NominatedNodeName }
	all := []string{"zed/nominated-high", "zed/nominated", "zed/self", "zed/high", "zed/old", "alice/b", "alice/c", "bob/a"}

	tests := []struct {
		name   string
		self   *corev1.Pod
		demand int32
		want   []string
	}{
		{
			name: "nominated first, then the cycle's pod, then priority, age, namespace and name",
			self: self, demand: 8,
			want: all,
		},
		{
			name: "no cycle's pod: queue order after the nominated",
			self: nil, demand: 8,
			want: []string{"zed/nominated-high", "zed/nominated", "zed/high", "zed/old", "alice/b", "alice/c", "bob/a", "zed/self"},
		},
		{
			name: "the demand takes the first of them",
			self: self, demand: 3,
			want: all[:3],
		},
		{
			name: "no cycle's pod, the same demand: another third",
			self: nil, demand: 3,
			want: []string{"zed/nominated-high", "zed/nominated", "zed/high"},
		},
		{
			name: "a demand beyond the pending pods takes them all",
			self: self, demand: 20,
			want: all,
		},
		{
			name: "no demand, none",
			self: self, demand: 0,
			want: []string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Whatever order the pods come in.
			for shift := range pods {
				pending := append(append([]*corev1.Pod(nil), pods[shift:]...), pods[:shift]...)
				if shift%2 == 1 {
					for i, j := 0, len(pending)-1; i < j; i, j = i+1, j-1 {
						pending[i], pending[j] = pending[j], pending[i]
					}
				}
				got := []string{}
				for _, p := range GuaranteedPods(tc.self, pending, tc.demand, nominatedTo) {
					got = append(got, p.Namespace+"/"+p.Name)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Fatalf("from order %d (-want +got):\n%s", shift, diff)
				}
			}
		})
	}
}

func TestServedBeforeIsStrict(t *testing.T) {
	// A pod is never served before itself, nor two pods each before the other: sort.Slice needs
	// a strict order.
	self := executor("zed", "self").obj()
	pods := []*corev1.Pod{
		self,
		executor("zed", "nominated").nominatedTo("n1").obj(),
		executor("zed", "high").priority(10).obj(),
		executor("alice", "twin").obj(),
		executor("bob", "twin").obj(),
	}
	nominatedTo := func(p *corev1.Pod) string { return p.Status.NominatedNodeName }
	for _, s := range []*corev1.Pod{self, nil} {
		for _, a := range pods {
			if ServedBefore(s, a, a, nominatedTo) {
				t.Errorf("self %v: %s served before itself", s != nil, a.Name)
			}
			for _, b := range pods {
				if a != b && ServedBefore(s, a, b, nominatedTo) == ServedBefore(s, b, a, nominatedTo) {
					t.Errorf("self %v: %s/%s and %s/%s not ordered", s != nil, a.Namespace, a.Name, b.Namespace, b.Name)
				}
			}
		}
	}
}
