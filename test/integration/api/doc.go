// Package api tests the Farm and FarmManager API as the API server serves it from the shipped
// CRDs: the original operator's objects apply unchanged, invalid Farms are refused with messages
// that name the field, kubectl scale is refused (a Farm has no scale subresource), and the
// categories name no resource.
package api
