// W6 call_soon_threadsafe throughput (docs/design/benchmarks-method.md), Go: 4 goroutines each send M functions
// on a buffered channel to the main goroutine, which runs them. ns per function.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	per := int64(250000)
	if len(os.Args) > 1 {
		per, _ = strconv.ParseInt(os.Args[1], 10, 64)
	}
	const threads = 4
	total := per * threads
	ch := make(chan func(), 1024)
	var count int64
	start := time.Now()
	for t := 0; t < threads; t++ {
		go func() {
			for i := int64(0); i < per; i++ {
				ch <- func() { count++ }
			}
		}()
	}
	for i := int64(0); i < total; i++ {
		(<-ch)()
	}
	elapsed := float64(time.Since(start).Nanoseconds())
	if count != total {
		os.Exit(1)
	}
	fmt.Printf("RESULT workload=w6_threadsafe runtime=go n=%d ns_per_op=%.2f\n", total, elapsed/float64(total))
}
