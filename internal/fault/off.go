//go:build !faultinject

package fault

// Point does nothing outside fault-injection builds.
func Point(string) {}
