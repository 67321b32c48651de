package reclaim

// covers reports whether r is at least need in every dimension.
func (r Resources) covers(need Resources) bool {
	for i, n := range need {
		if r[i] < n {
			return false
		}
	}
	return true
}

// Add adds o to r in place.
func (r Resources) Add(o Resources) {
	for i := range r {
		r[i] += o[i]
	}
}

// Sub takes o from r in place.
func (r Resources) Sub(o Resources) {
	for i := range r {
		r[i] -= o[i]
	}
}

// clone returns a copy of r.
func (r Resources) clone() Resources { return append(Resources(nil), r...) }

// shortOf returns, per dimension, how much more than r need asks for (zero where r suffices),
// and whether anything is short.
func (r Resources) shortOf(need Resources) (Resources, bool) {
	short := make(Resources, len(need))
	any := false
	for i, n := range need {
		if d := n - r[i]; d > 0 {
			short[i] = d
			any = true
		}
	}
	return short, any
}

// relief is how much of short a victim of request v covers, as a fraction of the shortage summed
// over the short dimensions: the larger, the fewer victims the node needs.
func relief(v, short Resources) float64 {
	var s float64
	for i, d := range short {
		if d > 0 {
			s += float64(min(v[i], d)) / float64(d)
		}
	}
	return s
}

// excess is how much a victim of request v frees beyond short, summed over the short dimensions
// as fractions of the shortage.
func excess(v, short Resources) float64 {
	var s float64
	for i, d := range short {
		if d > 0 && v[i] > d {
			s += float64(v[i]-d) / float64(d)
		}
	}
	return s
}
