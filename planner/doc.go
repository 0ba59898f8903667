// Package planner decides, purely, what the executor does next.
//
// Plan takes the desired state (from config), the observed state (rebuilt
// from engine labels) and the current time, and returns the next safe step as
// ordered actions, each with the reason that becomes an event. It performs no
// I/O, starts no goroutines and reads no clock: the same inputs always give
// the same plan, sorted so that map order never reaches it. The executor
// applies a plan, observes again and asks for the next one; nothing here
// assumes a previous plan was carried out.
package planner
