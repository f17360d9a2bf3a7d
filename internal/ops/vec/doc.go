// Package vec holds the ops package's SIMD kernels in Go assembly (a
// package that uses cgo, as ops does for OpenBLAS, cannot contain Go
// assembly). Each kernel does what it can on the CPU it runs on and reports
// how many values it did; the caller finishes the rest in Go.
package vec
