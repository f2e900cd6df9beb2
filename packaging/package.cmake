# Install rules and the Debian package (docs/operations.md "From package to running appliance").
# `cmake --install build [--prefix P]` and `cpack` (run in build/) install the same tree:
#   P/bin/datacustoms, P/lib/systemd/system/datacustoms.service, P/share/man/man8/*.8.gz,
#   P/share/doc/datacustoms/ (docs, examples), and the example configuration in SYSCONF/datacustoms
#   (SYSCONF is /etc for P = /usr, P/etc otherwise). Paths inside the unit are the install-time
#   prefix's, so a package (prefix /usr) and a test install into a scratch prefix are both right.
# Included from the top-level CMakeLists.txt (after GNUInstallDirs and the targets).

set(DC_PKG_DIR ${CMAKE_SOURCE_DIR}/packaging)
# cpack (and ctest package_deb) install what is built without first building every test and
# benchmark target ("preinstall" would depend on "all"): build, then install or package.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# ---- man pages: help2man over the binary's own --help (the text never drifts from the code) ----
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(DC_MAN_PAGES)
  set(DC_MAN_COMMANDS run config policy audit keys replay scan)
  foreach(cmd "" ${DC_MAN_COMMANDS})
    if(cmd STREQUAL "")
      set(page datacustoms)
      set(exe $<TARGET_FILE:datacustoms>)
      set(name "cross-border data customs gateway (DPDK, Hyperscan)")
    else()
      # help2man runs "PROGRAM --help": a wrapper makes each subcommand a program of its own.
      set(page datacustoms-${cmd})
      set(exe ${CMAKE_BINARY_DIR}/man/${page})
      file(GENERATE OUTPUT ${exe}
           CONTENT "#!/bin/sh\nexec \"$<TARGET_FILE:datacustoms>\" ${cmd} \"$@\"\n"
           FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                            WORLD_READ WORLD_EXECUTE)
      set(name "datacustoms ${cmd} subcommand")
    endif()
    add_custom_command(
      OUTPUT ${CMAKE_BINARY_DIR}/man/${page}.8.gz
      COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=8 --name=${name}
              --version-string=${DC_VERSION} --include=${DC_PKG_DIR}/man/datacustoms.h2m
              --output=${CMAKE_BINARY_DIR}/man/${page}.8 ${exe}
      COMMAND gzip -9nf ${CMAKE_BINARY_DIR}/man/${page}.8
      DEPENDS datacustoms ${DC_PKG_DIR}/man/datacustoms.h2m
      COMMENT "man page ${page}.8 (help2man)" VERBATIM)
    list(APPEND DC_MAN_PAGES ${CMAKE_BINARY_DIR}/man/${page}.8.gz)
  endforeach()
  add_custom_target(dc_man_pages ALL DEPENDS ${DC_MAN_PAGES})
  install(FILES ${DC_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
else()
  message(WARNING "help2man not found: no man pages are built or installed")
endif()

# ---- docs and examples ----------------------------------------------------------------------
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(FILES examples/appliance.toml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY examples/policy DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# ---- the unit and the configuration: paths of the prefix installed into ------------------------
# At install time CMAKE_INSTALL_PREFIX is the real one (cmake --install --prefix, or cpack's
# CPACK_PACKAGING_INSTALL_PREFIX), and DESTDIR is honoured by file(INSTALL).
install(CODE "
  set(_prefix \"\${CMAKE_INSTALL_PREFIX}\")
  if(_prefix STREQUAL \"/usr\")
    set(_etc /etc)
  else()
    set(_etc \"\${_prefix}/etc\")
  endif()
  set(CMAKE_INSTALL_FULL_BINDIR \"\${_prefix}/${CMAKE_INSTALL_BINDIR}\")
  set(CMAKE_INSTALL_FULL_DOCDIR \"\${_prefix}/${CMAKE_INSTALL_DOCDIR}\")
  set(DC_SYSCONFDIR \"\${_etc}\")
  configure_file(${CMAKE_SOURCE_DIR}/examples/datacustoms.service.in
                 ${CMAKE_BINARY_DIR}/install-unit/datacustoms.service @ONLY)
  file(INSTALL ${CMAKE_BINARY_DIR}/install-unit/datacustoms.service
       DESTINATION \"\${_prefix}/lib/systemd/system\")
  file(INSTALL ${DC_PKG_DIR}/etc/appliance.toml ${DC_PKG_DIR}/etc/policy.toml
       DESTINATION \"\${_etc}/datacustoms\")
")

# ---- the Debian package -------------------------------------------------------------------
# Debian versions take no '-' in the upstream part: 0.1.0+git.c19e496-dirty -> ...c19e496.dirty.
string(REPLACE "-" "." DC_DEB_VERSION "${DC_VERSION}")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME datacustoms)
set(CPACK_PACKAGE_VERSION ${DC_DEB_VERSION})
set(CPACK_PACKAGE_CONTACT "datacustoms maintainers <datacustoms@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Cross-border data customs gateway (DPDK, Hyperscan)")
set(CPACK_PACKAGE_DESCRIPTION "A bump-in-the-wire gateway that inspects cross-border flows \
against a compliance policy and keeps a signed, hash-chained audit log of every decision.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # library dependencies computed from the binary
# postinst: adduser (system user), runuser and install (util-linux, coreutils: essential).
# DPDK's buses, mempool handler and poll-mode drivers are EAL plugins loaded from the PMD
# directory at start-up, so the shlibs scan of the binary cannot see them: without
# librte-mempool-ring no packet pool can be made and without librte-bus-vdev no --vdev/net_*
# device parses ("failed to parse device net_null0", seen when the service first ran under
# systemd in a clean root). Depends: what every start needs plus the virtual drivers the shipped
# example and the docs use; Recommends: the common NIC drivers and dpdk (dpdk-devbind.py,
# dpdk-hugepages.py, which the operations guide uses). The package suffix is the EAL's soname
# version (librte_eal.so.23 for DPDK 22.11 -> librte-*23).
# With DPDK linked statically (DC_DPDK_STATIC, packaging/dpdk.cmake) the drivers are inside the
# binary and EAL loads no plugin: the shlibs scan sees every library they need (libibverbs for
# mlx5, libpcap, libnuma, ...), so only dpdk (the tools) is recommended.
set(_dc_rte_depends "")
set(_dc_rte_recommends "dpdk")
if(NOT DC_DPDK_STATIC)
  file(GLOB _dc_eal_sonames "${DPDK_LIBDIR}/librte_eal.so.*")
  set(_dc_rte_abi "")
  foreach(_so ${_dc_eal_sonames})
    if(_so MATCHES "librte_eal\\.so\\.([0-9]+)$")
      set(_dc_rte_abi ${CMAKE_MATCH_1})
    endif()
  endforeach()
  if(_dc_rte_abi STREQUAL "")
    message(FATAL_ERROR "packaging: no librte_eal.so.N under '${DPDK_LIBDIR}' (libdpdk-dev)")
  endif()
  foreach(_drv bus-vdev bus-pci mempool-ring net-null net-pcap net-af-packet net-ring)
    string(APPEND _dc_rte_depends ", librte-${_drv}${_dc_rte_abi}")
  endforeach()
  # Package names put a hyphen before the ABI when the driver name ends in a digit (e1000-23).
  foreach(_drv net-i40e net-iavf net-ice net-ixgbe net-mlx5- net-e1000- net-virtio net-vmxnet3-)
    string(APPEND _dc_rte_recommends ", librte-${_drv}${_dc_rte_abi}")
  endforeach()
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser${_dc_rte_depends}")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "${_dc_rte_recommends}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# /etc/datacustoms is written through DESTDIR, never into the build machine's /etc; with
# DESTDIR, the prefix the package is installed with is CPACK_INSTALL_PREFIX.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
configure_file(${DC_PKG_DIR}/debian/conffiles ${CMAKE_BINARY_DIR}/debian/conffiles COPYONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/debian/conffiles ${DC_PKG_DIR}/debian/postinst ${DC_PKG_DIR}/debian/prerm
    ${DC_PKG_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
