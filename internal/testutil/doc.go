// Package testutil holds small helpers that the tests of several packages
// share: a buffer a process can write to while the test reads it, a
// command built once per test run, waiting on a condition with a deadline,
// and ending a process group.
//
// It is for tests only: import it from _test.go files, never from the
// program. It depends on the standard library alone, so importing it costs
// a test nothing.
package testutil
