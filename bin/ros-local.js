#!/usr/bin/env node
'use strict';
require('../dist/lib/cli/ros-local-main.js');
