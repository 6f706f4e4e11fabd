#!/bin/sh
# Bulwark on shared hosting: mod_fcgid runs this script with the listening
# socket on fd 0; it names the configuration and becomes the program.
# Upload it next to .htaccess, make it executable (chmod 755), and set
# BULWARK_HOME to the directory outside the web root that holds bin/bulwark
# and bulwark.conf (every key, DATABASE_URL included: see
# bulwark.conf.example).  Nothing else is needed in Apache's configuration.
BULWARK_HOME=/home/USER/bulwark
BULWARK_CONFIG=$BULWARK_HOME/bulwark.conf
export BULWARK_CONFIG
exec "$BULWARK_HOME/bin/bulwark"
