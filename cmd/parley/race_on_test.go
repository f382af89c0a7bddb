//go:build parleywire && race

package main

const raceEnabled = true
