"""What the tests and the benchmarks both need to drive the app for real: a Streamlit server on
a free port (`servers`), Debian's Chromium through Playwright (`servers.launch_browser`), and
helpers for the pages they drive (`pages`). Neither tests/ nor bench/ imports the other."""
