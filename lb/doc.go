// Package lb will hold the embedded reverse proxy: Service listeners,
// endpoint sets of ready pods, HTTP and TCP proxying, balancing and
// draining. It receives endpoint updates and knows nothing of the planner or
// the executor. Nothing is implemented yet: Services are validated by config
// and reported as not run by this build.
package lb
