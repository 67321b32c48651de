// Package api tests the Farm and FarmManager API as the API server serves it from the shipped
// CRDs: the original operator's objects apply unchanged, invalid Farms are refused with messages
// that name the field, and the scale subresource drives maxExecutors.
package api
