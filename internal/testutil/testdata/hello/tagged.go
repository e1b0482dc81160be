//go:build testutil_tagged

package main

func init() { greeting = "hello, tagged" }
