//go:build !windows

package console

// Attach does nothing: outside Windows a program has one kind of executable
// and its standard streams are whatever its parent gave it.
func Attach() {}
