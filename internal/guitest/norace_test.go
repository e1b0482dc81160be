//go:build !race

package guitest

const raceEnabled = false
