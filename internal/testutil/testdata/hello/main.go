// Command hello is built by testutil's tests.
package main

import "fmt"

var greeting = "hello"

func main() { fmt.Println(greeting) }
