#!/bin/sh
. /etc/fixtures-sources.conf
echo "fixtures-sources says $greeting"
