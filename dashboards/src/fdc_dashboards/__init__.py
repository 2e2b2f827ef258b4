"""FastDining's Grafana dashboards, built with grafana-foundation-sdk (the Grafana 11.6 build).

`generate` writes them into the umbrella chart; `queries` lists their PromQL for checkers.
"""
