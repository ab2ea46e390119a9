# docs/api/labels.sed: doxygen's input filter for the public headers (docs/api/Doxyfile.in).
# One line in, one line out, so that doxygen's warnings name the header's own lines.
#
# The file comment, `// asyncio/<name>.hpp: what it holds...` and the `//` lines after it,
# becomes the file's documentation (\asyncio_file is `@file`): doxygen checks the free
# functions and variables of documented files only, so this is what makes an undocumented
# `asyncio::` function fail the build.
1{
  /^\/\/ asyncio\/[^ ]*\.hpp: /!b
  s@^// asyncio/[^ ]*\.hpp: @/// \\asyncio_file @
  :more
  n
  s@^//( |$)@///\1@
  t more
}
# The doc comments mark their parts with plain-text labels at the start of a `///` line
# (docs/design/style.md): each becomes an alias that opens a titled paragraph, instead of
# running into the paragraph before it.
s@^([[:space:]]*)/// Python:@\1/// \\asyncio_python@
s@^([[:space:]]*)/// Throws:@\1/// \\asyncio_throws@
s@^([[:space:]]*)/// Cancellation:@\1/// \\asyncio_cancellation@
s@^([[:space:]]*)/// Differs from CPython:@\1/// \\asyncio_differs@
s@^([[:space:]]*)/// Example:@\1/// \\asyncio_example@
