// W1 spawn-join (docs/design/benchmarks-method.md), Go with GOMAXPROCS=1: N goroutines each store their index in
// their own element of a results slice and mark a sync.WaitGroup done (Go's idiom for joining many goroutines);
// the main goroutine waits for the group, then sums the results in order.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := int64(1_000_000)
	if len(os.Args) > 1 {
		n, _ = strconv.ParseInt(os.Args[1], 10, 64)
	}
	start := time.Now()

	results := make([]int64, n)
	var wg sync.WaitGroup
	wg.Add(int(n))
	for i := int64(0); i < n; i++ {
		go func(i int64) {
			results[i] = i
			wg.Done()
		}(i)
	}
	wg.Wait()
	var sum int64
	for _, r := range results {
		sum += r
	}

	elapsed := time.Since(start)
	if sum != n*(n-1)/2 {
		fmt.Fprintf(os.Stderr, "w1 go: wrong sum %d\n", sum)
		os.Exit(1)
	}
	fmt.Printf("RESULT workload=w1_spawn_join runtime=go n=%d ns_per_op=%.2f\n", n, float64(elapsed.Nanoseconds())/float64(n))
}
