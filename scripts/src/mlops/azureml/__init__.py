"""Azure ML with the azure-ai-ml SDK (v2): plan offline, train, deploy blue/green.

Every function that talks to Azure receives its ``MLClient`` as a parameter; the command layer
(``mlops.commands``) is the only place that builds one.
"""
